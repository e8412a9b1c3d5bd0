package models

// Node is implemented by every entity with an id (the schema's interface
// Node): what Query.node and Query.nodes return.
type Node interface {
	IsNode()
	GetID() ID
}

func (*User) IsNode()               {}
func (u *User) GetID() ID           { return u.ID }
func (*Channel) IsNode()            {}
func (c *Channel) GetID() ID        { return c.ID }
func (*ContentNode) IsNode()        {}
func (n *ContentNode) GetID() ID    { return n.ID }
func (*File) IsNode()               {}
func (f *File) GetID() ID           { return f.ID }
func (*AssessmentItem) IsNode()     {}
func (a *AssessmentItem) GetID() ID { return a.ID }
func (*Job) IsNode()                {}
func (j *Job) GetID() ID            { return j.ID }
