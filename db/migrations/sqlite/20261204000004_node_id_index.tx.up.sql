-- Released migrations never change; add a new file instead.

-- Kolibri names nodes by their node_id when it browses a published channel
-- (/api/public/v2/contentnode/?parent=<node_id>, importmetadata/<node_id>/):
-- finding the node's channel must not scan every node.
CREATE INDEX content_nodes_node_id ON content_nodes (node_id);
