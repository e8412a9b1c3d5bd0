package server_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"studio/db"
	"studio/db/dbtest"
	"studio/models"
	"studio/server"
)

const lookupsQuery = `{
  licenses { id name url isCustom copyrightHolderRequired }
  languages { id name nativeName rtl }
  contentKinds { id presets { id } completionCriteria }
  formatPresets { id kind supplementary thumbnail subtitle multiLanguage display order allowedFormats }
  video: formatPresets(kind: video) { id }
  labelSets { field contentNodeField module
    labels { ...label children { ...label children { ...label children { id } } } }
    allLabels { ...label } }
  questionTypes { id legacy }
  masteryModels { id }
  completionCriteria { id }
  roles { id }
  modalities { id }
}
fragment label on Label { id name constant parent }`

// lookupIDs returns the id of each object of a list in a response.
func lookupIDs(v any) []string {
	out := []string{}
	for _, o := range v.([]any) {
		out = append(out, o.(map[string]any)["id"].(string))
	}
	return out
}

// TestLookups checks that the lookups give an anonymous caller exactly the
// generated le-utils tables, in their order, on both databases: what a
// frontend builds its menus from.
func TestLookups(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := newAPI(t, d, server.Config{})
		data := a.OK("", lookupsQuery, nil)

		// Licenses and languages: every one, with le-utils' fields.
		require.Len(t, data["licenses"], len(models.Licenses))
		for i, l := range models.Licenses {
			require.Equal(t, map[string]any{"id": float64(l.ID), "name": l.Name, "url": l.URL, "isCustom": l.IsCustom,
				"copyrightHolderRequired": l.CopyrightHolderRequired}, get(data, "licenses", i))
		}
		langs := models.Languages()
		require.Len(t, data["languages"], len(langs))
		for i, l := range langs {
			require.Equal(t, map[string]any{"id": l.ID, "name": l.Name, "nativeName": l.NativeName, "rtl": l.RTL}, get(data, "languages", i))
		}

		// Presets: every field of every one; a kind's are its own.
		require.Len(t, data["formatPresets"], len(models.FormatPresets))
		for i, p := range models.FormatPresets {
			formats := []any{}
			for _, f := range p.AllowedFormats {
				formats = append(formats, f)
			}
			require.Equal(t, map[string]any{"id": p.ID, "kind": p.Kind, "supplementary": p.Supplementary, "thumbnail": p.Thumbnail,
				"subtitle": p.Subtitle, "multiLanguage": p.MultiLanguage, "display": p.Display, "order": float64(p.Order),
				"allowedFormats": formats}, get(data, "formatPresets", i))
		}
		hi := get(data, "formatPresets", 0)
		require.Equal(t, "high_res_video", get(hi, "id"))
		require.Equal(t, "video", get(hi, "kind"))
		require.Equal(t, []any{"mp4", "webm"}, get(hi, "allowedFormats"))
		require.Equal(t, []string{"high_res_video", "low_res_video", "video_dependency", "video_thumbnail", "video_subtitle"}, lookupIDs(data["video"]))

		// Kinds: le-utils' order, each with its presets and completion criteria.
		require.Equal(t, models.Kinds, lookupIDs(data["contentKinds"]))
		presetsOfKinds := 0
		for i, k := range models.Kinds {
			kind := get(data, "contentKinds", i)
			var want []string
			for _, p := range models.FormatPresets {
				if p.Kind == k {
					want = append(want, p.ID)
				}
			}
			require.ElementsMatch(t, want, lookupIDs(get(kind, "presets")), k)
			presetsOfKinds += len(want)
			for _, m := range models.CompletionModels {
				require.Equal(t, models.CompletionModelAllowed(k, m), lookupHas(get(kind, "completionCriteria"), m), "%s %s", k, m)
			}
		}
		require.Equal(t, len(models.FormatPresets)-1, presetsOfKinds, "every preset but channel_thumbnail has a kind")
		require.Equal(t, []any{"mastery"}, get(data, "contentKinds", 3, "completionCriteria"), "exercise")
		require.Empty(t, get(data, "contentKinds", 6, "completionCriteria"), "slideshow")

		// Labels: each set whole, flat and as a tree of le-utils' dotted ids.
		require.Len(t, data["labelSets"], len(models.LabelSets))
		seen := map[string]string{}
		for i, s := range models.LabelSets {
			set := get(data, "labelSets", i)
			require.Equal(t, s.Field, get(set, "field"))
			require.Equal(t, s.Module, get(set, "module"))
			require.Len(t, get(set, "allLabels"), len(s.Labels))
			for j, l := range s.Labels {
				require.Equal(t, map[string]any{"id": l.ID, "name": l.Name, "constant": l.Constant, "parent": l.Parent()},
					get(set, "allLabels", j))
				require.NotContains(t, seen, l.ID, "label ids are unique across sets (graph.labelSetOf relies on it)")
				seen[l.ID] = s.Field
			}
			// The tree holds every label once, each under its parent.
			var walk func(parent string, labels any) int
			walk = func(parent string, labels any) int {
				n := 0
				for _, l := range labels.([]any) {
					require.Equal(t, parent, get(l, "parent"), get(l, "id"))
					n++
					if c := get(l, "children"); c != nil {
						n += walk(get(l, "id").(string), c)
					}
				}
				return n
			}
			require.Equal(t, len(s.Labels), walk("", get(set, "labels")), s.Field)
		}
		require.Equal(t, "gradeLevels", get(data, "labelSets", 0, "contentNodeField"))
		require.Equal(t, "learnerNeeds", get(data, "labelSets", 5, "contentNodeField"))
		subjects := get(data, "labelSets", 4)
		require.Equal(t, "categories", get(subjects, "field"))
		school := lookupFind(get(subjects, "labels"), "d&WXdXWF")
		require.Equal(t, "School", get(school, "name"))
		maths := lookupFind(get(school, "children"), mathematics)
		require.Equal(t, "MATHEMATICS", get(maths, "constant"))
		require.Contains(t, lookupIDs(get(maths, "children")), "d&WXdXWF.qs0Xlaxq.0t5msbL5", "Algebra is under Mathematics")
		require.Nil(t, lookupFind(get(subjects, "labels"), mathematics), "Mathematics is not top-level")

		// The enumerations that are ids only.
		require.Equal(t, models.AssessmentTypes, lookupIDs(data["questionTypes"]))
		for i, q := range models.AssessmentTypes {
			require.Equal(t, q == models.QuestionTrueFalse, get(data, "questionTypes", i, "legacy"), q)
		}
		require.Equal(t, models.MasteryModels, lookupIDs(data["masteryModels"]))
		require.Equal(t, models.CompletionModels, lookupIDs(data["completionCriteria"]))
		require.Equal(t, models.Roles, lookupIDs(data["roles"]))
		require.Equal(t, []string{models.RoleCoach, models.RoleLearner}, lookupIDs(data["roles"]))
		require.Equal(t, models.Modalities, lookupIDs(data["modalities"]))

		// A kind le-utils lacks is refused, naming the kinds.
		// Kinds are an enum: an unknown one is refused before anything runs.
		r := a.Do("", `{ formatPresets(kind: movie) { id } }`, nil)
		require.Equal(t, "GRAPHQL_VALIDATION_FAILED", r.Code())
		topic := a.OK("", `{ formatPresets(kind: topic) { id } }`, nil)
		require.Equal(t, []string{"topic_thumbnail"}, lookupIDs(topic["formatPresets"]))
	})
}

// lookupHas reports whether a decoded JSON list holds s.
func lookupHas(list any, s string) bool {
	for _, v := range list.([]any) {
		if v == s {
			return true
		}
	}
	return false
}

// lookupFind finds the object with this id in a decoded JSON list, or nil.
func lookupFind(list any, id string) any {
	for _, v := range list.([]any) {
		if get(v, "id") == id {
			return v
		}
	}
	return nil
}
