package graph

import (
	"context"
	"errors"
	"path"
	"strings"

	"studio/blobs"
	"studio/db"
	"studio/models"
)

// DefaultMaxUpload is the largest file uploadFile takes unless configured: 500 MB, as Studio.
const DefaultMaxUpload = 500 * 1000 * 1000

func (r *Resolver) uploadFile(ctx context.Context, in models.UploadFileInput) (*models.File, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	if r.Blobs == nil {
		return nil, models.Errorf(models.CodeInternal, "this server stores no files")
	}
	ext := strings.ToLower(strings.TrimPrefix(path.Ext(in.File.Filename), "."))
	p, ok := models.PresetByID(in.Preset)
	switch {
	case !ok:
		return nil, models.Errorf(models.CodeBadUserInput, "preset %q is not a format preset", in.Preset)
	case ext == "":
		return nil, models.Errorf(models.CodeBadUserInput, "the file %q has no extension; name it with its format, such as .mp4 or .pdf", in.File.Filename)
	case !p.Allows(ext):
		return nil, models.Errorf(models.CodeBadUserInput, "preset %s takes %s files, not .%s%s", p.ID, strings.Join(p.AllowedFormats, ", "), ext, presetsFor(ext))
	case p.NeedsDuration() && (in.Duration == nil || *in.Duration <= 0):
		return nil, models.Errorf(models.CodeBadUserInput, "%s files need their duration: a whole number of seconds, more than 0", ext)
	case !p.NeedsDuration() && in.Duration != nil:
		return nil, models.Errorf(models.CodeBadUserInput, "only audio and video files have a duration")
	case in.File.Size > r.MaxUpload:
		return nil, models.Errorf(models.CodeBadUserInput, "the file is %d bytes, over the limit of %d", in.File.Size, r.MaxUpload)
	}
	lang := ""
	if in.Language != nil && *in.Language != "" {
		l, err := models.LanguageByCode(*in.Language)
		if err != nil {
			return nil, models.Errorf(models.CodeBadUserInput, "language: %v", err)
		}
		lang = l.ID
	}
	sp, err := r.Blobs.Spool(in.File.File, r.MaxUpload)
	if errors.Is(err, blobs.ErrTooLarge) {
		return nil, models.Errorf(models.CodeBadUserInput, "the file is over the limit of %d bytes", r.MaxUpload)
	}
	if err != nil {
		return nil, err
	}
	defer sp.Remove()
	if in.Checksum != nil && !strings.EqualFold(*in.Checksum, sp.Checksum) {
		return nil, models.Errorf(models.CodeBadUserInput, "the file's md5 is %s, not the checksum %s you sent: it was changed or cut short on the way; send it again", sp.Checksum, *in.Checksum)
	}
	f := &models.File{ID: models.NewID(), NodeID: in.NodeID, AssessmentItemID: in.AssessmentItemID,
		Checksum: sp.Checksum, Size: sp.Size, Extension: ext, PresetID: p.ID, LanguageCode: lang,
		Duration: in.Duration, OriginalFilename: path.Base(in.File.Filename)}
	// The row is written first: a refusal (quota, permission) stores no
	// blob. A blob whose row then fails is collected as garbage.
	err = r.DB.AddFile(ctx, u, f, func() error {
		format, _ := models.FileFormatByExtension(ext)
		return r.Blobs.Store(ctx, blobs.Key(f.Checksum, ext), sp, format.MIMEType)
	})
	loadersFrom(ctx).forget()
	if err != nil {
		return nil, err
	}
	return f, nil
}

func (r *Resolver) deleteFiles(ctx context.Context, ids []models.ID) ([]models.ID, error) {
	changes := make([]db.Change, len(ids))
	for i, id := range ids {
		changes[i] = db.Change{Type: models.ChangeDeleted, Table: db.TableFile, Key: id}
	}
	if err := r.apply(ctx, changes); err != nil {
		return nil, err
	}
	return ids, nil
}

func (r *Resolver) updateFiles(ctx context.Context, in []*models.UpdateFileInput) ([]*models.File, error) {
	changes := make([]db.Change, len(in))
	ids := make([]models.ID, len(in))
	for i, f := range in {
		ids[i] = f.ID
		mods := obj{}
		if f.NodeID != nil {
			mods["contentnode"] = *f.NodeID
		}
		if f.AssessmentItemID != nil {
			mods["assessment_item"] = *f.AssessmentItemID
		}
		mods.str("preset", f.Preset)
		mods.str("language", f.Language)
		if f.Duration != nil {
			mods["duration"] = *f.Duration
		}
		changes[i] = db.Change{Type: models.ChangeUpdated, Table: db.TableFile, Key: f.ID, Mods: mods}
	}
	if err := r.apply(ctx, changes); err != nil {
		return nil, err
	}
	return r.DB.FilesByID(ctx, ids)
}

// presetsFor suggests the presets that take files with extension ext.
func presetsFor(ext string) string {
	var ids []string
	for _, p := range models.FormatPresets {
		if p.Allows(ext) {
			ids = append(ids, p.ID)
		}
	}
	if len(ids) == 0 {
		return "; no preset takes ." + ext + " files"
	}
	return "; ." + ext + " files go with " + strings.Join(ids, ", ")
}
