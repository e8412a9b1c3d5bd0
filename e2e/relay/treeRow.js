import { graphql } from 'react-relay';

export const treeRow = graphql`
  fragment treeRow_node on ContentNode
  @refetchable(queryName: "TreeRowRefetchQuery")
  @argumentDefinitions(count: { type: "Int", defaultValue: 20 }, cursor: { type: "String" }) {
    id
    title
    kind
    children(first: $count, after: $cursor) @connection(key: "treeRow_children") {
      edges { node { id title } }
    }
  }
`;

export const channelTree = graphql`
  query treeChannelQuery($id: ID!) {
    channel(id: $id) { id name root { ...treeRow_node } }
  }
`;
