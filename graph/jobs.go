package graph

import (
	"context"
	"time"

	"studio/db"
	"studio/jobs"
	"studio/models"
)

// errNoJobs is the error of job fields on a server built without a job client.
var errNoJobs = models.Errorf(models.CodeInternal, "this server runs no jobs")

// job returns a job the caller may see, or nil: a publish is its channel
// members' and admins', any other job admins' only.
func (r *Resolver) job(ctx context.Context, id models.ID) (*models.Job, error) {
	n, ok := models.RiverJobID(id)
	if !ok {
		return nil, nil
	}
	if r.Jobs == nil {
		return nil, errNoJobs
	}
	u := userFrom(ctx)
	if u == nil {
		return nil, nil
	}
	got, err := jobs.Get(ctx, r.DB, r.Jobs, []int64{n})
	if err != nil {
		return nil, err
	}
	j := got[n]
	if j == nil {
		return nil, nil
	}
	if j.ChannelID == nil {
		if !u.IsAdmin {
			return nil, nil
		}
		return j, nil
	}
	if ok, err := memberAccess(ctx, *j.ChannelID); !ok || err != nil {
		return nil, err
	}
	return j, nil
}

// maxJobsPage is the most jobs Channel.jobs lists, as the schema says.
const maxJobsPage = 100

func (r *Resolver) channelJobs(ctx context.Context, ch *models.Channel, first *int) ([]*models.Job, error) {
	n := pageSize(first, maxJobsPage)
	if n < 0 || n > maxJobsPage {
		return nil, models.Errorf(models.CodeBadUserInput, "first must be between 0 and %d, got %d", maxJobsPage, n)
	}
	if ok, err := memberAccess(ctx, ch.ID); !ok || err != nil {
		return []*models.Job{}, err
	}
	if r.Jobs == nil {
		return nil, errNoJobs
	}
	if n == 0 {
		return []*models.Job{}, nil // a LIMIT of 0 would be no limit
	}
	ids, err := r.DB.ChannelJobIDs(ctx, ch.ID, n)
	if err != nil {
		return nil, err
	}
	got, err := jobs.Get(ctx, r.DB, r.Jobs, ids)
	if err != nil {
		return nil, err
	}
	out := make([]*models.Job, 0, len(ids))
	for _, n := range ids {
		if j := got[n]; j != nil {
			out = append(out, j)
		}
	}
	return out, nil
}

func (r *Resolver) primaryToken(ctx context.Context, ch *models.Channel) (*string, error) {
	if ok, err := memberAccess(ctx, ch.ID); !ok || err != nil {
		return nil, err
	}
	return r.DB.PrimaryToken(ctx, ch.ID)
}

func (r *Resolver) publishChannel(ctx context.Context, channelID models.ID, notes *string, draft *bool) (*models.Job, error) {
	if r.Jobs == nil {
		return nil, errNoJobs
	}
	n, err := jobs.RequestPublish(ctx, r.DB, r.Jobs, userFrom(ctx), channelID, deref(notes), draft != nil && *draft)
	if err != nil {
		return nil, err
	}
	got, err := jobs.Get(ctx, r.DB, r.Jobs, []int64{n})
	if err != nil {
		return nil, err
	}
	return got[n], nil
}

// jobUpdated sends the job now, then each of its events in order; it ends
// after a final state. Events are read from the database when a commit
// wakes the subscription (any instance's, on PostgreSQL) or, as a safety
// net, every few seconds.
func (r *Resolver) jobUpdated(ctx context.Context, id models.ID) (<-chan *models.Job, error) {
	j, err := r.job(ctx, id)
	if err != nil {
		return nil, err
	}
	if j == nil {
		return nil, models.Errorf(models.CodeNotFound, "job %s does not exist or you cannot see it", id)
	}
	wake, stop := r.DB.SubscribeJob(j.RiverID)
	last, err := r.DB.LatestJobEvents(ctx, []int64{j.RiverID})
	if err != nil {
		stop()
		return nil, err
	}
	var after int64
	if ev := last[j.RiverID]; ev != nil {
		after = ev.ID
	}
	out := make(chan *models.Job, 16)
	go func() {
		defer close(out)
		defer stop()
		send := func(j *models.Job) bool {
			select {
			case out <- j:
				return true
			case <-ctx.Done():
				return false
			}
		}
		if !send(j) || j.State.Final() {
			return
		}
		for {
			tick := false
			select {
			case <-wake:
			case <-time.After(3 * time.Second): // a safety net; wake-ups do the work
				tick = true
			case <-ctx.Done():
				return
			}
			evs, err := r.DB.JobEvents(ctx, j.RiverID, after)
			if err != nil {
				return // the context ended, or the database is gone: the client resubscribes
			}
			// As channelChanges: checked after the read, at every wake, so a
			// member removed from the job's channel hears no more of its jobs.
			if j.ChannelID != nil {
				if err := r.jobAccessNow(ctx, *j.ChannelID); err != nil {
					endSubscription(ctx, "jobUpdated", err)
					return
				}
			}
			if len(evs) == 0 && !tick {
				continue
			}
			// River's row, for what events do not carry (attempt, times), and
			// for a job River ended without an event of ours (a dead
			// worker's, out of attempts).
			got, err := jobs.Get(ctx, r.DB, r.Jobs, []int64{j.RiverID})
			if err != nil {
				return
			}
			if now := got[j.RiverID]; now != nil {
				j = now
			}
			if len(evs) == 0 {
				if j.State.Final() {
					send(j)
					return
				}
				continue
			}
			for _, ev := range evs {
				after = ev.ID
				now := jobs.WithEvent(j, ev)
				if !send(now) || now.State.Final() {
					return
				}
			}
		}
	}()
	return out, nil
}

// jobAccessNow asks the database again, past the operation's loaders,
// whether the caller is still a member of a job's channel (or an admin).
func (r *Resolver) jobAccessNow(ctx context.Context, channelID models.ID) error {
	got, err := r.DB.ChannelsByID(ctx, userFrom(ctx), []models.ID{channelID})
	if err != nil {
		return err
	}
	if got[channelID].Access < db.ViewAccess {
		return models.Errorf(models.CodeNotFound, "the job's channel %s does not exist or you are no longer a member", channelID)
	}
	return nil
}
