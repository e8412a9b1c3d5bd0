package models

import "context"

// ChannelConnection is a page of channels. Count is called only when a
// client asks for totalCount, since it is a query of its own.
type ChannelConnection struct {
	Edges    []*ChannelEdge
	PageInfo *PageInfo
	Count    func(context.Context) (int, error) `json:"-"`
}

// ContentNodeConnection is a page of nodes; Count as in ChannelConnection.
type ContentNodeConnection struct {
	Edges    []*ContentNodeEdge
	PageInfo *PageInfo
	Count    func(context.Context) (int, error) `json:"-"`
}
