// Command leutilsgen writes models/leutils_gen.go, the Go tables of le-utils'
// vocabulary (languages, kinds, formats, presets, licenses, exercise and
// completion enums, labels), from the pinned le-utils release on PyPI.
//
// It installs le-utils in a virtualenv kept under the user's cache directory
// ($XDG_CACHE_HOME or ~/.cache, studio-leutils-<version>), runs dump.py with
// it and formats the tables. go generate runs it in models/:
//
//	go run ./leutilsgen                  write leutils_gen.go
//	go run ./leutilsgen -check           fail if leutils_gen.go is stale
//	go run ./leutilsgen -dump d.json     also keep dump.py's output
//	go run ./leutilsgen -from d.json     use a dump instead of Python
//
// The values are copied as le-utils has them; what studio does differently
// (the mimetypes it serves, legacy question types) lives in leutils.go.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"studio/models/leutilsdump"
)

// version is the le-utils release studio encodes. Change it here, run go
// generate, and review the diff of leutils_gen.go.
const version = "0.2.20"

// labelSets pairs each content node label field (Studio's name) with the
// le-utils module under le_utils/constants/labels that lists its ids.
var labelSets = []struct{ field, module string }{
	{"grade_levels", "levels"},
	{"resource_types", "resource_type"},
	{"learning_activities", "learning_activities"},
	{"accessibility_labels", "accessibility_categories"},
	{"categories", "subjects"},
	{"learner_needs", "needs"},
}

func main() {
	out := flag.String("out", "leutils_gen.go", "the Go file to write")
	check := flag.Bool("check", false, "write nothing; fail if -out differs from what would be written")
	from := flag.String("from", "", "read this dump (dump.py's output) instead of running Python")
	dumpTo := flag.String("dump", "", "also write dump.py's output to this file")
	flag.Parse()
	if err := run(*out, *from, *dumpTo, *check); err != nil {
		fmt.Fprintln(os.Stderr, "leutilsgen:", err)
		os.Exit(1)
	}
}

func run(out, from, dumpTo string, check bool) error {
	var raw []byte
	var err error
	if from != "" {
		raw, err = os.ReadFile(from)
	} else {
		raw, err = runDump()
	}
	if err != nil {
		return err
	}
	if dumpTo != "" {
		if err := os.WriteFile(dumpTo, raw, 0o644); err != nil {
			return err
		}
	}
	var d leutilsdump.Dump
	if err := json.Unmarshal(raw, &d); err != nil {
		return fmt.Errorf("reading the dump: %w", err)
	}
	if d.Version != version {
		return fmt.Errorf("the dump is of le-utils %s, not %s", d.Version, version)
	}
	src, err := generate(&d)
	if err != nil {
		return err
	}
	if check {
		have, err := os.ReadFile(out)
		if err != nil {
			return err
		}
		if !bytes.Equal(have, src) {
			return fmt.Errorf("%s is stale: run go generate ./models/ and commit it", out)
		}
		return nil
	}
	return os.WriteFile(out, src, 0o644)
}

// runDump installs le-utils (once) and runs dump.py with it.
func runDump() ([]byte, error) {
	python, err := leUtilsPython()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(python, "-I", "-") // -I: nothing from the working directory or PYTHON* shadows le-utils or the standard library
	cmd.Stdin = bytes.NewReader(leutilsdump.Script)
	cmd.Stderr = os.Stderr
	cmd.Dir = os.TempDir() // so no le_utils directory in the working tree shadows the installed one
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("dump.py: %w", err)
	}
	return out, nil
}

// leUtilsPython returns the python of a virtualenv with le-utils==version,
// making it first if needed. The virtualenv is built where it stays (its
// scripts name its path); a stamp says the install finished.
func leUtilsPython() (string, error) {
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		cache = filepath.Join(home, ".cache")
	}
	venv := filepath.Join(cache, "studio-leutils-"+version)
	python := filepath.Join(venv, "bin", "python")
	stamp := filepath.Join(venv, ".installed")
	if _, err := os.Stat(stamp); err == nil {
		return python, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	fmt.Fprintf(os.Stderr, "leutilsgen: installing le-utils %s in %s\n", version, venv)
	if err := os.RemoveAll(venv); err != nil {
		return "", err
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", err
	}
	for _, args := range [][]string{
		{"python3", "-m", "venv", venv},
		{python, "-m", "pip", "install", "-q", "--disable-pip-version-check", "le-utils==" + version},
	} {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("%s: %w", strings.Join(args, " "), err)
		}
	}
	return python, os.WriteFile(stamp, nil, 0o644)
}

func generate(d *leutilsdump.Dump) ([]byte, error) {
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	q := strconv.Quote
	list := func(name, doc string, ids []string) {
		p("\n// %s\nvar %s = []string{\n", doc, name)
		for _, id := range ids {
			p("\t%s,\n", q(id))
		}
		p("}\n")
	}
	ids := func(xs []struct{ ID string }) []string {
		var out []string
		for _, x := range xs {
			out = append(out, x.ID)
		}
		return out
	}

	p("// Code generated by leutilsgen from le-utils %s; DO NOT EDIT.\n\n", d.Version)
	p("package models\n\n")
	p("// LeUtilsVersion is the le-utils release the generated tables encode.\n")
	p("const LeUtilsVersion = %s\n", q(d.Version))

	langs := slices.Clone(d.Languages)
	slices.SortFunc(langs, func(a, b leutilsdump.Language) int { return strings.Compare(a.ID, b.ID) })
	p("\n// leLanguages is resources/languagelookup.json, sorted by code.\nvar leLanguages = []Language{\n")
	for _, l := range langs {
		p("\t{ID: %s, Name: %s, NativeName: %s, RTL: %t},\n", q(l.ID), q(l.Name), q(l.NativeName), l.RTL)
	}
	p("}\n")

	list("leKinds", "leKinds is resources/kindlookup.json.", ids(d.Kinds))

	p("\n// leFileFormats is resources/formatlookup.json, with le-utils' mimetypes.\nvar leFileFormats = []FileFormat{\n")
	for _, f := range d.Formats {
		p("\t{Extension: %s, MIMEType: %s},\n", q(f.ID), q(f.MIMEType))
	}
	p("}\n")

	p("\n// leFormatPresets is resources/presetlookup.json.\nvar leFormatPresets = []FormatPreset{\n")
	for _, f := range d.Presets {
		kind := ""
		if f.Kind != nil {
			kind = *f.Kind
		}
		var formats []string
		for _, ext := range f.AllowedFormats {
			formats = append(formats, q(ext))
		}
		p("\t{ID: %s, Kind: %s, Supplementary: %t, Thumbnail: %t, Subtitle: %t, MultiLanguage: %t, Display: %t, Order: %d, AllowedFormats: []string{%s}},\n",
			q(f.ID), q(kind), f.Supplementary, f.Thumbnail, f.Subtitle, f.MultiLanguage, f.Display, f.Order, strings.Join(formats, ", "))
	}
	p("}\n")

	p("\n// leLicenses is resources/licenselookup.json.\nvar leLicenses = []License{\n")
	for _, l := range d.Licenses {
		id, err := strconv.Atoi(l.ID)
		if err != nil {
			return nil, fmt.Errorf("license id %q: %w", l.ID, err)
		}
		p("\t{ID: %d, Name: %s, URL: %s, IsCustom: %t, CopyrightHolderRequired: %t},\n",
			id, q(l.Name), q(l.URL), l.Custom, l.CopyrightHolderRequired)
	}
	p("}\n")

	list("leRenderablePresetsOrder", "leRenderablePresetsOrder is format_presets.RENDERABLE_PRESETS_ORDER.", d.RenderablePresetsOrder)
	list("leMasteryModels", "leMasteryModels is exercises.MASTERY_MODELS.", ids(d.MasteryModels))
	list("leQuestionTypes", "leQuestionTypes is exercises.question_choices.", ids(d.QuestionTypes))
	list("leCompletionCriteria", "leCompletionCriteria is completion_criteria.COMPLETIONCRITERIALIST.", d.CompletionCriteria)
	list("leModalities", "leModalities is modalities.MODALITIESLIST.", d.Modalities)
	list("leRoles", "leRoles is roles.choices.", ids(d.Roles))
	list("leLibraries", "leLibraries is library.LIBRARYLIST.", d.Libraries)

	p("\n// leLabelSets are the modules of le_utils/constants/labels, each with the\n")
	p("// content node field that holds its ids. A label's parent is its id up to\n// the last dot.\n")
	p("var leLabelSets = []LabelSet{\n")
	if len(d.Labels) != len(labelSets) {
		return nil, fmt.Errorf("the dump has %d label modules, leutilsgen knows %d", len(d.Labels), len(labelSets))
	}
	for _, s := range labelSets {
		labels, ok := d.Labels[s.module]
		if !ok {
			return nil, fmt.Errorf("the dump has no label module %s", s.module)
		}
		seen := map[string]bool{}
		for _, l := range labels {
			seen[l.ID] = true
		}
		p("\t{Field: %s, Module: %s, Labels: []Label{\n", q(s.field), q(s.module))
		for _, l := range labels {
			if i := strings.LastIndex(l.ID, "."); i >= 0 && !seen[l.ID[:i]] {
				return nil, fmt.Errorf("label %s of %s has no parent %s", l.ID, s.module, l.ID[:i])
			}
			p("\t\t{ID: %s, Name: %s, Constant: %s},\n", q(l.ID), q(l.Name), q(l.Constant))
		}
		p("\t}},\n")
	}
	p("}\n")

	src, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("formatting: %w", err)
	}
	return src, nil
}
