package db

import (
	"context"

	"studio/models"
)

// A chef (a ricecooker script) uploads a channel as a new tree beside the
// live one: BeginChefTree makes the tree's root, AddChefNodes hangs nodes
// under it (or under a topic added earlier), FinishChefTree makes it the
// main tree (stage false) or the staging tree (stage true), which
// DeployStagingTree later makes the main tree. Nothing an editor or a
// learner sees changes before then; the tree replaced goes to the garbage,
// which a job collects. Every call is one write through the door.

// ChefChannel is create_channel's channel_data.
type ChefChannel struct {
	ID                models.ID
	Name              string
	Description       string
	Tagline           string
	Language          string // "" for none
	Thumbnail         string // "<md5>.<ext>" of a stored blob, or ""
	SourceID          string
	SourceDomain      string
	RicecookerVersion string
	ExtraFields       map[string]any
}

// ChefFile is a file a chef names by its bytes: "<md5>.<ext>", uploaded
// (or found stored) before the node that uses it is added.
type ChefFile struct {
	Filename         string // "<md5>.<ext>"
	Preset           string
	Size             int64
	OriginalFilename string
	Language         string
	SourceURL        string
	Duration         *int
}

// ChefQuestion is one question of an exercise, answers and hints decoded.
type ChefQuestion struct {
	AssessmentID models.ID
	Type         string
	Question     string
	Answers      []any
	Hints        []any
	RawData      string
	SourceURL    string
	Randomize    bool
	Files        []ChefFile
}

// ChefNode is one node of add_nodes' content_data, its JSON strings
// (extra_fields) decoded. A node with SourceChannelID is a copy of a
// resource of that channel's main tree (by SourceNodeID, else the first
// with SourceContentID) with the fields given as overrides.
type ChefNode struct {
	NodeID             models.ID
	ContentID          models.ID
	SourceID           string
	SourceDomain       string
	Kind               string
	Title              string
	Description        string
	Author             string
	Aggregator         string
	Provider           string
	CopyrightHolder    string
	License            string // a license name, "" for none
	LicenseDescription string
	Language           string
	Role               string // learner or coach ("" for learner)
	SuggestedDuration  *int
	ExtraFields        map[string]any
	Tags               []string
	Labels             map[string][]string // by field: grade_levels, categories, …
	Files              []ChefFile
	Questions          []ChefQuestion

	SourceChannelID *models.ID
	SourceNodeID    *models.ID
	SourceContentID *models.ID
}

// BeginChefTree creates the channel ch.ID (u becomes its editor) or
// updates it (u must edit it), and gives it a new, empty tree for a chef's
// upload, whose root it returns. A tree an earlier upload left unfinished
// goes to the garbage.
func (d *DB) BeginChefTree(ctx context.Context, u *models.User, ch ChefChannel) (*models.Channel, models.ID, error) {
	return nil, models.ID{}, models.Errorf(models.CodeInternal, "not implemented yet")
}

// AddChefNodes adds nodes, in order, as the last children of parent (the
// root BeginChefTree gave, or a topic added since), keeping their node_id
// and content_id. A node whose node_id is already among parent's children is
// skipped. It returns the server id of every node sent, by node_id (skipped
// ones too). Files must name stored blobs; a missing one fails the call with
// NOT_FOUND naming the node and file.
func (d *DB) AddChefNodes(ctx context.Context, u *models.User, parent models.ID, nodes []ChefNode) (map[models.ID]models.ID, error) {
	return nil, models.Errorf(models.CodeInternal, "not implemented yet")
}

// FinishChefTree ends channelID's upload: with stage false the uploaded
// tree becomes the main tree at once; with stage true it becomes the
// staging tree, for editors to review and deploy. The tree it replaces goes
// to the garbage.
func (d *DB) FinishChefTree(ctx context.Context, u *models.User, channelID models.ID, stage bool) (*models.Channel, error) {
	return nil, models.Errorf(models.CodeInternal, "not implemented yet")
}

// DeployStagingTree makes channelID's staging tree its main tree; the main
// tree it replaces goes to the garbage.
func (d *DB) DeployStagingTree(ctx context.Context, u *models.User, channelID models.ID) (*models.Channel, error) {
	return nil, models.Errorf(models.CodeInternal, "not implemented yet")
}
