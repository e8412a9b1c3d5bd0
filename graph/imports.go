package graph

import (
	"context"

	"studio/jobs"
	"studio/models"
)

// importChannel enqueues an import (jobs.RequestImport decides what the
// caller may import from) and returns its job.
func (r *Resolver) importChannel(ctx context.Context, source, channel string, as *models.ID) (*models.Job, error) {
	if r.Jobs == nil {
		return nil, errNoJobs
	}
	n, err := jobs.RequestImport(ctx, r.DB, r.Jobs, userFrom(ctx), jobs.ImportRequest{Source: source, Channel: channel, As: as})
	if err != nil {
		return nil, err
	}
	got, err := jobs.Get(ctx, r.DB, r.Jobs, []int64{n})
	if err != nil {
		return nil, err
	}
	return got[n], nil
}

// jobImport is what an import job found; the job is visible already.
func (r *Resolver) jobImport(ctx context.Context, j *models.Job) (*models.ChannelImport, error) {
	if j.Kind != jobs.KindImport {
		return nil, nil
	}
	return r.DB.ImportByJob(ctx, j.RiverID)
}

// importedFrom is the channel's last import, for its members and admins.
func (r *Resolver) importedFrom(ctx context.Context, ch *models.Channel) (*models.ChannelImport, error) {
	if ok, err := memberAccess(ctx, ch.ID); !ok || err != nil {
		return nil, err
	}
	return load(ctx, loadersFrom(ctx).Imports, ch.ID)
}
