package graph

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"studio/db"
	"studio/models"
)

// Tree reads (a channel or a node, pages of children below it, their files)
// are what the curation frontend asks most, and they are large: a thousand
// nodes with their files is five thousand objects. gqlgen executes a
// response object by object, with a goroutine for every list element and a
// field context and path for every field; on such a read that is four fifths
// of the time. So a root channel or contentNode field whose whole selection
// is made of the fields below is answered here instead: the selection is
// planned once (graphql.CollectFields, as gqlgen does: fragments, aliases,
// @skip and @include), each level is read with one statement for all its
// nodes and only the columns it shows, and the JSON is written with gqlgen's
// own scalar marshalers in gqlgen's field order. Any other field, and any
// error, leaves the field to gqlgen, so a response is always what gqlgen
// would have written (TestDirectReadsMatchGqlgen compares them).

// directFields are, for each object type, the fields answered here (and
// __typename) and the object type each one's value has ("" for a scalar or
// a list of scalars).
var directFields = map[string]map[string]string{
	"Channel": {"id": "", "name": "", "description": "", "tagline": "", "language": "Language",
		"thumbnail": "", "public": "", "deleted": "", "version": "", "lastPublished": "", "publishedSize": "",
		"totalResourceCount": "", "includedLanguages": "", "createdAt": "", "modifiedAt": "", "root": "ContentNode"},
	// ContentNode's fields of models.NodeFields are added below.
	"ContentNode": {"license": "License", "language": "Language", "files": "File",
		"children": "ContentNodeConnection", "childCount": ""},
	"ContentNodeConnection": {"edges": "ContentNodeEdge", "pageInfo": "PageInfo", "totalCount": ""},
	"ContentNodeEdge":       {"cursor": "", "node": "ContentNode"},
	"PageInfo":              {"hasNextPage": "", "endCursor": "", "hasPreviousPage": "", "startCursor": ""},
	"File": {"id": "", "nodeId": "", "assessmentItemId": "", "checksum": "", "size": "",
		"extension": "", "preset": "FormatPreset", "language": "Language", "duration": "", "originalFilename": "",
		"url": "", "createdAt": ""},
	"FormatPreset": {"id": "", "kind": "", "supplementary": "", "thumbnail": "", "allowedFormats": ""},
	"License":      {"id": "", "name": "", "url": "", "isCustom": "", "copyrightHolderRequired": ""},
	"Language":     {"id": "", "name": "", "nativeName": "", "rtl": ""},
}

func init() {
	for _, f := range models.NodeFields {
		if _, special := directFields["ContentNode"][f.GraphQL]; f.GraphQL != "" && !special {
			directFields["ContentNode"][f.GraphQL] = ""
		}
	}
}

// fileFieldColumns are the files columns each File field reads, besides
// those every read has (db.FilesByNode).
var fileFieldColumns = map[string][]string{
	"assessmentItemId": {"assessment_item_id"}, "checksum": {"checksum"}, "size": {"size"},
	"extension": {"extension"}, "language": {"language"}, "duration": {"duration"},
	"originalFilename": {"original_filename"}, "url": {"checksum", "extension"},
}

// implementors are gqlgen's, for CollectFields.
var implementors = map[string][]string{
	"Channel": channelImplementors, "ContentNode": contentNodeImplementors,
	"ContentNodeConnection": contentNodeConnectionImplementors, "ContentNodeEdge": contentNodeEdgeImplementors,
	"PageInfo": pageInfoImplementors, "File": fileImplementors, "FormatPreset": formatPresetImplementors,
	"License": licenseImplementors, "Language": languageImplementors,
}

// A plan is a selection on one object type.
type plan struct {
	typ    string // the object type
	fields []*planField
	// nodes, for a ContentNode plan, are the nodes it is written for.
	nodes []*models.ContentNode
}

type planField struct {
	graphql.CollectedField
	sub *plan
	// children: the page asked for and the pages read, by parent; files and
	// children: the columns they read.
	first   int
	after   string
	cols    []string
	pages   map[models.ID]*db.NodePage
	filesOf map[models.ID][]*models.File // files, by node
	// childCount, and children whose page shows totalCount: each node's.
	counts map[models.ID]int
	// node is a ContentNode field's entry in models.NodeFields, if any.
	node *models.NodeField
}

// directAnswers counts the root fields answered here (tests read it).
var directAnswers atomic.Int64

// errIndirect sends a field back to gqlgen.
var errIndirect = errors.New("graph: not a direct read")

// directRead answers the root field of ctx when it can, or returns nil.
func directRead(ctx context.Context, d *db.DB) graphql.Marshaler {
	rfc := graphql.GetRootFieldContext(ctx)
	if rfc == nil || !graphql.HasOperationContext(ctx) {
		return nil
	}
	op := graphql.GetOperationContext(ctx)
	if op.Operation == nil || op.Operation.Operation != ast.Query {
		return nil
	}
	var typ string
	switch rfc.Field.Name {
	case "channel":
		typ = "Channel"
	case "contentNode":
		typ = "ContentNode"
	default:
		return nil
	}
	p, ok := planOf(op, typ, rfc.Field.Selections)
	if !ok {
		return nil
	}
	var id models.ID
	if err := id.UnmarshalGQL(rfc.Field.ArgumentMap(op.Variables)["id"]); err != nil {
		return nil
	}
	w := &treeWriter{ctx: ctx}
	if err := w.root(d, typ, id, p); err != nil {
		return nil
	}
	directAnswers.Add(1)
	out := w.b.Bytes()
	return graphql.WriterFunc(func(wr io.Writer) { _, _ = wr.Write(out) })
}

// planOf plans sel on typ, or says it cannot.
func planOf(op *graphql.OperationContext, typ string, sel ast.SelectionSet) (*plan, bool) {
	known := directFields[typ]
	p := &plan{typ: typ}
	for _, f := range graphql.CollectFields(op, sel, implementors[typ]) {
		sub, ok := known[f.Name]
		ok = ok || f.Name == "__typename" // every object's, written by object
		if !ok || f.IsDeferred() {
			return nil, false // @defer: gqlgen sends such fields later
		}
		pf := &planField{CollectedField: f}
		if typ == "ContentNode" {
			pf.node = models.NodeFieldByGraphQL(f.Name)
		}
		if sub != "" {
			if pf.sub, ok = planOf(op, sub, f.Selections); !ok {
				return nil, false
			}
		}
		if typ == "ContentNode" && f.Name == "children" {
			if pf.first, pf.after, ok = pageArgs(f.ArgumentMap(op.Variables)); !ok {
				return nil, false
			}
			pf.cols = splitColumns(columnsOf(op, f.Selections))
		}
		if typ == "ContentNode" && f.Name == "files" {
			cols := []string{"id"}
			for _, ff := range pf.sub.fields {
				cols = append(cols, fileFieldColumns[ff.Name]...)
			}
			pf.cols = cols
		}
		p.fields = append(p.fields, pf)
	}
	return p, true
}

// treeWriter reads what a plan needs and writes it as JSON.
type treeWriter struct {
	ctx context.Context
	b   bytes.Buffer
	err error
}

// root reads the root field's object as its resolver does (the same
// permission checks), then what the plan needs below it, then writes it.
func (w *treeWriter) root(d *db.DB, typ string, id models.ID, p *plan) error {
	ctx := w.ctx
	switch typ {
	case "Channel":
		ca, err := visibleChannel(ctx, id)
		if err != nil {
			return err
		}
		if ca == nil {
			w.b.WriteString("null")
			return nil
		}
		for _, f := range p.fields {
			if f.Name == "root" {
				n, err := load(ctx, loadersFrom(ctx).Nodes, ca.RootID)
				if err != nil || n == nil {
					return errIndirect
				}
				f.sub.nodes = []*models.ContentNode{n}
				if err := readNodes(ctx, d, f.sub); err != nil {
					return err
				}
			}
		}
		w.channel(p, ca.Channel)
	case "ContentNode":
		n, err := visibleNode(ctx, id)
		if err != nil {
			return err
		}
		if n == nil {
			w.b.WriteString("null")
			return nil
		}
		p.nodes = []*models.ContentNode{n}
		if err := readNodes(ctx, d, p); err != nil {
			return err
		}
		w.node(p, n)
	}
	return w.err
}

// readNodes reads, with a statement each, the files, child counts and
// pages of children that p shows of its nodes, and so on down.
func readNodes(ctx context.Context, d *db.DB, p *plan) error {
	if len(p.nodes) == 0 {
		return nil
	}
	ids := make([]models.ID, len(p.nodes))
	for i, n := range p.nodes {
		ids[i] = n.ID
	}
	for _, f := range p.fields {
		var err error
		switch f.Name {
		case "files":
			f.filesOf, err = d.FilesByNode(ctx, ids, f.cols...)
		case "childCount":
			f.counts, err = d.ChildCounts(ctx, ids)
		case "children":
			if f.pages, err = d.ChildrenPages(ctx, ids, f.first, f.after, f.cols...); err != nil {
				return err
			}
			if slices.ContainsFunc(f.sub.fields, func(c *planField) bool { return c.Name == "totalCount" }) {
				if f.counts, err = d.ChildCounts(ctx, ids); err != nil {
					return err
				}
			}
			var below []*models.ContentNode
			for _, id := range ids {
				if pg := f.pages[id]; pg != nil {
					below = append(below, pg.Nodes...)
				}
			}
			for _, e := range f.sub.fields {
				if e.Name != "edges" {
					continue
				}
				for _, n := range e.sub.fields {
					if n.Name == "node" {
						n.sub.nodes = below
						if err := readNodes(ctx, d, n.sub); err != nil {
							return err
						}
					}
				}
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// object writes p's fields in order: __typename itself, the others by value.
func (w *treeWriter) object(p *plan, value func(f *planField)) {
	w.b.WriteByte('{')
	for i, f := range p.fields {
		if i > 0 {
			w.b.WriteByte(',')
		}
		graphql.MarshalString(f.Alias).MarshalGQL(&w.b)
		w.b.WriteByte(':')
		if f.Name == "__typename" {
			w.str(p.typ)
		} else {
			value(f)
		}
	}
	w.b.WriteByte('}')
}

// scalar writes m; a null where the schema says non-null is gqlgen's to report.
func (w *treeWriter) scalar(m graphql.Marshaler, nonNull bool) {
	if m == graphql.Null && nonNull {
		w.err = errIndirect
	}
	m.MarshalGQL(&w.b)
}

func (w *treeWriter) str(s string)   { w.scalar(graphql.MarshalString(s), true) }
func (w *treeWriter) boolean(v bool) { w.scalar(graphql.MarshalBoolean(v), true) }
func (w *treeWriter) id(v models.ID) { v.MarshalGQL(&w.b) }

func (w *treeWriter) optID(v *models.ID) {
	if v == nil {
		w.b.WriteString("null")
		return
	}
	v.MarshalGQL(&w.b)
}

func (w *treeWriter) optInt(v *int) {
	if v == nil {
		w.b.WriteString("null")
		return
	}
	w.scalar(graphql.MarshalInt(*v), true)
}

func (w *treeWriter) json(m map[string]any) {
	if m == nil {
		w.err = errIndirect
		return
	}
	w.scalar(graphql.MarshalMap(m), true)
}

func (w *treeWriter) strings(v []string) {
	w.b.WriteByte('[')
	for i, s := range v {
		if i > 0 {
			w.b.WriteByte(',')
		}
		w.str(s)
	}
	w.b.WriteByte(']')
}

func (w *treeWriter) unknown() { w.err = errIndirect }

func (w *treeWriter) channel(p *plan, c *models.Channel) {
	w.object(p, func(f *planField) {
		switch f.Name {
		case "id":
			w.id(c.ID)
		case "name":
			w.str(c.Name)
		case "description":
			w.str(c.Description)
		case "tagline":
			w.str(c.Tagline)
		case "language":
			w.language(f.sub, c.Language())
		case "thumbnail":
			w.str(c.Thumbnail)
		case "public":
			w.boolean(c.Public)
		case "deleted":
			w.boolean(c.Deleted)
		case "version":
			w.scalar(graphql.MarshalInt(c.Version), true)
		case "lastPublished":
			if c.LastPublished == nil {
				w.b.WriteString("null")
			} else {
				w.scalar(graphql.MarshalTime(*c.LastPublished), false)
			}
		case "publishedSize":
			w.scalar(graphql.MarshalInt64(c.PublishedSize), true)
		case "totalResourceCount":
			w.scalar(graphql.MarshalInt(c.TotalResourceCount), true)
		case "includedLanguages":
			w.strings(c.IncludedLanguages)
		case "createdAt":
			w.scalar(graphql.MarshalTime(c.CreatedAt), true)
		case "modifiedAt":
			w.scalar(graphql.MarshalTime(c.ModifiedAt), true)
		case "root":
			w.node(f.sub, f.sub.nodes[0])
		default:
			w.unknown()
		}
	})
}

func (w *treeWriter) node(p *plan, n *models.ContentNode) {
	w.object(p, func(f *planField) {
		switch f.Name {
		case "license":
			w.license(f.sub, n.License())
		case "language":
			w.language(f.sub, n.Language())
		case "files":
			fs := f.filesOf[n.ID]
			w.b.WriteByte('[')
			for i, file := range fs {
				if i > 0 {
					w.b.WriteByte(',')
				}
				w.file(f.sub, file)
			}
			w.b.WriteByte(']')
		case "children":
			w.connection(f.sub, f.pages[n.ID], f.counts[n.ID])
		case "childCount":
			w.scalar(graphql.MarshalInt(f.counts[n.ID]), true)
		default:
			if f.node == nil {
				w.unknown()
				return
			}
			w.nodeField(f.node.Of(n))
		}
	})
}

// nodeField writes the value of a field of models.NodeFields, as gqlgen
// marshals its GraphQL type.
func (w *treeWriter) nodeField(v any) {
	switch v := v.(type) {
	case *string:
		w.str(*v)
	case *map[string]any:
		w.json(*v)
	case *bool:
		w.boolean(*v)
	case *models.ID:
		w.id(*v)
	case **models.ID:
		w.optID(*v)
	case **int:
		w.optInt(*v)
	case *time.Time:
		w.scalar(graphql.MarshalTime(*v), true)
	case *float64:
		if err := graphql.MarshalFloatContext(*v).MarshalGQLContext(w.ctx, &w.b); err != nil {
			w.err = err
		}
	default:
		w.unknown()
	}
}

// connection writes a page of children as nodeConnection makes it; total
// is the parent's number of children.
func (w *treeWriter) connection(p *plan, pg *db.NodePage, total int) {
	if pg == nil {
		pg = &db.NodePage{}
	}
	w.object(p, func(f *planField) {
		switch f.Name {
		case "totalCount":
			w.scalar(graphql.MarshalInt(total), true)
		case "edges":
			w.b.WriteByte('[')
			for i, n := range pg.Nodes {
				if i > 0 {
					w.b.WriteByte(',')
				}
				w.object(f.sub, func(e *planField) {
					switch e.Name {
					case "cursor":
						w.str(pg.Cursors[i])
					case "node":
						w.node(e.sub, n)
					default:
						w.unknown()
					}
				})
			}
			w.b.WriteByte(']')
		case "pageInfo":
			w.object(f.sub, func(e *planField) {
				switch e.Name {
				case "hasNextPage":
					w.boolean(pg.HasNextPage)
				case "hasPreviousPage":
					w.boolean(pg.HasPreviousPage && len(pg.Cursors) > 0)
				case "endCursor", "startCursor":
					switch {
					case len(pg.Cursors) == 0:
						w.b.WriteString("null")
					case e.Name == "startCursor":
						w.str(pg.Cursors[0])
					default:
						w.str(pg.Cursors[len(pg.Cursors)-1])
					}
				default:
					w.unknown()
				}
			})
		default:
			w.unknown()
		}
	})
}

func (w *treeWriter) file(p *plan, file *models.File) {
	w.object(p, func(f *planField) {
		switch f.Name {
		case "id":
			w.id(file.ID)
		case "nodeId":
			w.optID(file.NodeID)
		case "assessmentItemId":
			w.optID(file.AssessmentItemID)
		case "checksum":
			w.str(file.Checksum)
		case "size":
			w.scalar(graphql.MarshalInt64(file.Size), true)
		case "extension":
			w.str(file.Extension)
		case "preset":
			pr := file.Preset()
			if pr == nil {
				w.err = errIndirect
				return
			}
			w.object(f.sub, func(e *planField) {
				switch e.Name {
				case "id":
					w.scalar(graphql.MarshalID(pr.ID), true)
				case "kind":
					w.scalar(graphql.MarshalString(pr.Kind), false)
				case "supplementary":
					w.boolean(pr.Supplementary)
				case "thumbnail":
					w.boolean(pr.Thumbnail)
				case "allowedFormats":
					w.strings(pr.AllowedFormats)
				default:
					w.unknown()
				}
			})
		case "language":
			w.language(f.sub, file.Language())
		case "duration":
			w.optInt(file.Duration)
		case "originalFilename":
			w.str(file.OriginalFilename)
		case "url":
			w.str(file.URL())
		case "createdAt":
			w.scalar(graphql.MarshalTime(file.CreatedAt), true)
		default:
			w.unknown()
		}
	})
}

func (w *treeWriter) license(p *plan, l *models.License) {
	if l == nil {
		w.b.WriteString("null")
		return
	}
	w.object(p, func(f *planField) {
		switch f.Name {
		case "id":
			w.scalar(graphql.MarshalInt(l.ID), true)
		case "name":
			w.str(l.Name)
		case "url":
			w.str(l.URL)
		case "isCustom":
			w.boolean(l.IsCustom)
		case "copyrightHolderRequired":
			w.boolean(l.CopyrightHolderRequired)
		default:
			w.unknown()
		}
	})
}

func (w *treeWriter) language(p *plan, l *models.Language) {
	if l == nil {
		w.b.WriteString("null")
		return
	}
	w.object(p, func(f *planField) {
		switch f.Name {
		case "id":
			w.scalar(graphql.MarshalID(l.ID), true)
		case "name":
			w.str(l.Name)
		case "nativeName":
			w.str(l.NativeName)
		case "rtl":
			w.boolean(l.RTL)
		default:
			w.unknown()
		}
	})
}
