package jobs

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/riverqueue/river"

	"studio/db"
	"studio/models"
)

// steps records one attempt of a job for its subscribers: its state, its
// progress, and why it failed. Publish and import runs embed it.
type steps struct {
	d         *db.DB
	what      string // "publish", "import": for the log
	jobID     int64
	attempt   int
	channelID models.ID
	progress  int
}

func newSteps[T river.JobArgs](d *db.DB, what string, job *river.Job[T], channelID models.ID) steps {
	return steps{d: d, what: what, jobID: job.ID, attempt: job.Attempt, channelID: channelID}
}

// event records a step of the job.
func (s *steps) event(ctx context.Context, state models.JobState, progress int, cause error) error {
	ev := &models.JobEvent{JobID: s.jobID, ChannelID: &s.channelID, State: state, Progress: progress}
	if cause != nil {
		ev.Error = clientError(cause)
		if ev.Error == internalJobError {
			slog.WarnContext(ctx, "jobs: "+s.what+" failed", "job", s.jobID, "channel", s.channelID, "attempt", s.attempt, "err", cause)
		}
	}
	err := s.d.AddJobEvent(ctx, ev)
	if err == nil {
		s.progress = progress
	}
	return err
}

// step records progress when it moved on by 3 points or more, so that a
// subscriber hears of every 5% at least, and no more than ~35 times in all.
func (s *steps) step(ctx context.Context, progress int) error {
	if progress < s.progress+3 {
		return nil
	}
	return s.event(ctx, models.JobRunning, progress, nil)
}

// fail records that the attempt failed with err and returns what River is
// told: an error of one of the final codes (a mistake in what was asked)
// cancels the job, anything else is retried until the last attempt.
func (s *steps) fail(ctx context.Context, err error, maxAttempts int, final ...models.Code) error {
	cause, state := err, models.JobRetrying
	if slices.Contains(final, models.CodeOf(err)) {
		state, err = models.JobFailed, river.JobCancel(err)
	}
	if s.attempt >= maxAttempts {
		state = models.JobFailed
	}
	// Recorded even when ctx is done: the attempt is over either way.
	ectx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_ = s.event(ectx, state, s.progress, cause)
	return err
}
