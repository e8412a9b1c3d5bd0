package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"studio/db"
	"studio/models"
)

// Get reads jobs by River id, as the API shows them: River's row for what
// River knows (kind, attempts, times), the job's last event for its progress.
// Missing ids are left out.
func Get(ctx context.Context, d *db.DB, c *Client, ids []int64) (map[int64]*models.Job, error) {
	out := map[int64]*models.Job{}
	if len(ids) == 0 {
		return out, nil
	}
	res, err := c.JobList(ctx, river.NewJobListParams().IDs(ids...).First(len(ids)))
	if err != nil {
		return nil, fmt.Errorf("jobs: get: %w", err)
	}
	events, err := d.LatestJobEvents(ctx, ids)
	if err != nil {
		return nil, err
	}
	versions, err := d.VersionsByJob(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, row := range res.Jobs {
		j := FromRow(row, events[row.ID])
		if v, ok := versions[row.ID]; ok {
			j.Version = &v
		}
		out[row.ID] = j
	}
	return out, nil
}

// FromRow is a River job as the API shows it, with its last event (or nil).
func FromRow(row *rivertype.JobRow, last *models.JobEvent) *models.Job {
	j := &models.Job{ID: models.JobID(row.ID), RiverID: row.ID, Kind: row.Kind, State: stateOf(row.State),
		Attempt: row.Attempt, CreatedAt: row.CreatedAt, StartedAt: row.AttemptedAt, FinishedAt: row.FinalizedAt}
	if row.Kind == KindPublish {
		var args PublishArgs
		if json.Unmarshal(row.EncodedArgs, &args) == nil {
			j.ChannelID, j.Draft = &args.ChannelID, args.Draft
		}
	}
	if id, ok := importChannelOf(row); ok {
		j.ChannelID = &id
	}
	if len(row.Errors) > 0 {
		// River keeps the raw error text, driver details and all; the
		// job's own event below has the text meant for clients.
		msg := internalJobError
		j.Error = &msg
	}
	if last != nil {
		j.Progress = last.Progress
		if last.Error != "" {
			j.Error = &last.Error
		}
		// The job's own final event says best how it ended (River's row
		// says running until the attempt's last write, and "cancelled"
		// for a job failed for good by a mistake in the channel).
		if last.State.Final() {
			j.State = last.State
		}
	}
	switch {
	case j.State == models.JobCompleted:
		j.Progress, j.Error = 100, nil
	case j.State == models.JobQueued && last == nil:
		j.Progress = 0
	}
	return j
}

// internalJobError is what clients read of a job's failure that has no
// message meant for them; the details are in the server log.
const internalJobError = "internal error; it has been logged"

// clientError is the text of a job's failure as clients may read it: the
// message of a models.Error (written for them), a generic text otherwise.
func clientError(err error) string {
	var me *models.Error
	if errors.As(err, &me) && me.Message != "" {
		return me.Message
	}
	return internalJobError
}

// WithEvent is job j as of event ev: its state, progress and error then.
func WithEvent(j *models.Job, ev *models.JobEvent) *models.Job {
	c := *j
	c.State, c.Progress, c.Error = ev.State, ev.Progress, nil
	if ev.Error != "" {
		c.Error = &ev.Error
	}
	return &c
}

// stateOf maps River's states onto the API's.
func stateOf(s rivertype.JobState) models.JobState {
	switch s {
	case rivertype.JobStateRunning:
		return models.JobRunning
	case rivertype.JobStateRetryable:
		return models.JobRetrying
	case rivertype.JobStateCompleted:
		return models.JobCompleted
	case rivertype.JobStateDiscarded:
		return models.JobFailed
	case rivertype.JobStateCancelled:
		return models.JobCancelled
	}
	return models.JobQueued // available, pending, scheduled
}
