package models

// Node is implemented by every entity with an id (the schema's interface
// Node): what Query.node and Query.nodes return.
type Node interface {
	IsNode()
	GetID() ID
}

// IsNode marks a User as a Node.
func (*User) IsNode() {}

// GetID is the user's id.
func (u *User) GetID() ID { return u.ID }

// IsNode marks a Channel as a Node.
func (*Channel) IsNode() {}

// GetID is the channel's id.
func (c *Channel) GetID() ID { return c.ID }

// IsNode marks a ContentNode as a Node.
func (*ContentNode) IsNode() {}

// GetID is the content node's id.
func (n *ContentNode) GetID() ID { return n.ID }

// IsNode marks a File as a Node.
func (*File) IsNode() {}

// GetID is the file's id.
func (f *File) GetID() ID { return f.ID }

// IsNode marks an AssessmentItem as a Node.
func (*AssessmentItem) IsNode() {}

// GetID is the question's own id.
func (a *AssessmentItem) GetID() ID { return a.ID }

// IsNode marks a Job as a Node.
func (*Job) IsNode() {}

// GetID is the job's id.
func (j *Job) GetID() ID { return j.ID }
