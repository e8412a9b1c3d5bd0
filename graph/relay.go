package graph

import (
	"context"

	"studio/db"
	"studio/jobs"
	"studio/models"
)

// relayNodes finds what has each id, whatever its type, in the order asked
// (nil where the caller may view nothing with it): Query.node and
// Query.nodes. Each type is read once for all the ids, then the channels
// that decide what the caller sees, so the statements do not grow with the
// number of ids. A user is visible to itself and to admins; anything else
// as its channel decides, as the typed queries do.
func (r *Resolver) relayNodes(ctx context.Context, ids []models.ID) ([]models.Node, error) {
	if len(ids) > db.MaxNodesPage {
		return nil, models.Errorf(models.CodeBadUserInput, "at most %d ids at once; you asked for %d", db.MaxNodesPage, len(ids))
	}
	out := make([]models.Node, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	u := userFrom(ctx)
	var jobNumbers []int64
	var others []models.ID
	for _, id := range ids {
		if n, ok := models.RiverJobID(id); ok {
			jobNumbers = append(jobNumbers, n)
		} else {
			others = append(others, id)
		}
	}
	found := map[models.ID]models.Node{}

	// What has the ids, and which nodes and channels decide who sees it.
	if len(others) == 0 {
		others = []models.ID{{}} // the zero id, which nothing has: the reads stay simple
	}
	files, err := r.DB.FilesByID(ctx, others)
	if err != nil {
		return nil, err
	}
	// Questions asked for, and those whose files were: a question's file
	// is seen through its question's node.
	itemIDs := append([]models.ID(nil), others...)
	for _, f := range files {
		if f.AssessmentItemID != nil {
			itemIDs = append(itemIDs, *f.AssessmentItemID)
		}
	}
	items, err := r.DB.AssessmentItemsByID(ctx, itemIDs)
	if err != nil {
		return nil, err
	}
	itemNode := map[models.ID]models.ID{}
	nodeIDs := append([]models.ID(nil), others...)
	for _, it := range items {
		itemNode[it.ID] = it.NodeID
		nodeIDs = append(nodeIDs, it.NodeID)
	}
	for _, f := range files {
		if f.NodeID != nil {
			nodeIDs = append(nodeIDs, *f.NodeID)
		}
	}
	nodes, err := r.DB.NodesByID(ctx, nodeIDs)
	if err != nil {
		return nil, err
	}
	var jobList map[int64]*models.Job
	if len(jobNumbers) > 0 && u != nil && r.Jobs != nil {
		if jobList, err = jobs.Get(ctx, r.DB, r.Jobs, jobNumbers); err != nil {
			return nil, err
		}
	}
	channelIDs := append([]models.ID(nil), others...)
	for _, n := range nodes {
		channelIDs = append(channelIDs, n.ChannelID)
	}
	for _, j := range jobList {
		if j.ChannelID != nil {
			channelIDs = append(channelIDs, *j.ChannelID)
		}
	}
	channels, err := r.DB.ChannelsByID(ctx, u, channelIDs)
	if err != nil {
		return nil, err
	}
	l := loadersFrom(ctx)
	for id, ca := range channels {
		l.Channels.Prime(ctx, id, ca)
	}

	// Who sees what.
	visibleNode := func(id models.ID) *models.ContentNode {
		n := nodes[id]
		if n == nil {
			return nil
		}
		if ca, ok := channels[n.ChannelID]; ok && ca.Channel != nil && ca.Access.CanView() && ca.Access.CanViewNode(ca.Channel, n) {
			return n
		}
		return nil
	}
	for _, id := range others {
		if ca, ok := channels[id]; ok && ca.Channel != nil && ca.Access.CanView() {
			found[id] = ca.Channel
		} else if n := visibleNode(id); n != nil {
			l.Nodes.Prime(ctx, id, n)
			found[id] = n
		}
	}
	for _, f := range files {
		switch {
		case f.NodeID != nil && visibleNode(*f.NodeID) != nil:
			found[f.ID] = f
		case f.AssessmentItemID != nil && visibleNode(itemNode[*f.AssessmentItemID]) != nil:
			found[f.ID] = f
		}
	}
	for _, it := range items {
		if visibleNode(it.NodeID) != nil {
			found[it.ID] = it
		}
	}
	for _, j := range jobList {
		switch {
		case j.ChannelID == nil && u.IsAdmin:
			found[j.ID] = j
		case j.ChannelID != nil && channels[*j.ChannelID].Access >= db.ViewAccess:
			found[j.ID] = j
		}
	}
	if u != nil {
		for _, id := range others {
			if id == u.ID {
				found[id] = u
			}
		}
		if u.IsAdmin {
			users, err := r.DB.UsersByID(ctx, others)
			if err != nil {
				return nil, err
			}
			for id, v := range users {
				found[id] = v
			}
		}
	}
	for i, id := range ids {
		out[i] = found[id]
	}
	return out, nil
}
