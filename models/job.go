package models

import (
	"encoding/binary"
	"io"
	"strconv"
	"time"

	"github.com/uptrace/bun"
)

// JobState is a job's state as the API shows it; River's states map onto it.
type JobState string

// The job states.
const (
	JobQueued    JobState = "QUEUED"
	JobRunning   JobState = "RUNNING"
	JobRetrying  JobState = "RETRYING"
	JobCompleted JobState = "COMPLETED"
	JobFailed    JobState = "FAILED"
	JobCancelled JobState = "CANCELLED"
)

// Final says whether the job will change no more.
func (s JobState) Final() bool { return s == JobCompleted || s == JobFailed || s == JobCancelled }

// MarshalGQL writes the state as a GraphQL enum value.
func (s JobState) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(s))) }

// UnmarshalGQL reads a GraphQL enum value, refusing unknown states.
func (s *JobState) UnmarshalGQL(v any) error {
	str, _ := v.(string)
	switch st := JobState(str); st {
	case JobQueued, JobRunning, JobRetrying, JobCompleted, JobFailed, JobCancelled:
		*s = st
		return nil
	}
	return Errorf(CodeBadUserInput, "%v is not a job state", v)
}

// Job is a background job (a publish) as the API shows it.
type Job struct {
	ID        ID
	RiverID   int64
	Kind      string
	State     JobState
	Progress  int
	Error     *string
	ChannelID *ID
	Draft     bool
	// Version is the version a completed publish made.
	Version    *int
	Attempt    int
	CreatedAt  time.Time
	StartedAt  *time.Time
	FinishedAt *time.Time
}

// JobID is the API id of River job n: its number in the last eight bytes,
// so that job ids look like every other id.
func JobID(n int64) ID {
	var id ID
	binary.BigEndian.PutUint64(id[8:], uint64(n))
	return id
}

// RiverJobID reverses JobID; ok is false for an id that is not a job's.
func RiverJobID(id ID) (n int64, ok bool) {
	for _, b := range id[:8] {
		if b != 0 {
			return 0, false
		}
	}
	n = int64(binary.BigEndian.Uint64(id[8:]))
	return n, n > 0
}

// JobEvent is one step of a job's history: its state, progress and error
// at that moment.
type JobEvent struct {
	bun.BaseModel `bun:"table:job_events,alias:je"`

	ID        int64     `bun:"id,pk,autoincrement"`
	JobID     int64     `bun:"job_id"`
	ChannelID *ID       `bun:"channel_id,type:uuid"`
	State     JobState  `bun:"state"`
	Progress  int       `bun:"progress"`
	Error     string    `bun:"error"`
	CreatedAt time.Time `bun:"created_at"`
}

// ChannelVersion is one published version of a channel, or its draft
// (Version 0).
type ChannelVersion struct {
	bun.BaseModel `bun:"table:channel_versions,alias:cv"`

	ChannelID         ID        `bun:"channel_id,pk,type:uuid"`
	Version           int       `bun:"version,pk"`
	SecretToken       *string   `bun:"token"` // Kolibri imports this version by it; nil for none
	JobID             int64     `bun:"job_id"`
	VersionNotes      string    `bun:"version_notes"`
	ResourceCount     int       `bun:"resource_count"`
	KindCount         []any     `bun:"kind_count,type:jsonb"`
	Size              int64     `bun:"size"`
	IncludedLanguages []string  `bun:"included_languages,type:jsonb"`
	PublishedByID     *ID       `bun:"published_by_id,type:uuid"`
	CreatedAt         time.Time `bun:"created_at"`
}
