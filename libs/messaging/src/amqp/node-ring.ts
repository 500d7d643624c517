/** One RabbitMQ node a client may connect to. */
export interface AmqpNode {
  host: string;
  port: number;
}

/** `host:port`, the host in brackets when it is an IPv6 address (as in a URL). */
export function formatAmqpNode(node: AmqpNode): string {
  return node.host.includes(':') ? `[${node.host}]:${node.port}` : `${node.host}:${node.port}`;
}

/**
 * The nodes of a RabbitMQ cluster as one client sees them: it connects to the current one and, when that
 * connection is refused or lost, moves on to the next, round and round. A single node is a ring of one.
 *
 * Any node of a cluster serves every queue (a quorum queue's leader may live elsewhere: the node forwards), so
 * which node a client reaches matters only while it is down; the ring never waits for a node to come back.
 */
export class NodeRing {
  private at = 0;
  private readonly nodes: readonly AmqpNode[];

  constructor(nodes: readonly AmqpNode[]) {
    if (nodes.length === 0) throw new Error('amqp: a node ring needs at least one node');
    this.nodes = [...nodes];
  }

  get current(): AmqpNode {
    return this.nodes[this.at]!;
  }

  get size(): number {
    return this.nodes.length;
  }

  /** Moves to the next node (after a refused or lost connection) and returns it. */
  advance(): AmqpNode {
    this.at = (this.at + 1) % this.nodes.length;
    return this.current;
  }
}

/**
 * Parses a list of nodes, `host:port,host:port` (RABBITMQ_CLUSTER_NODES); `[::1]:5672` for IPv6. Throws on an
 * entry without a valid port, an empty list or a duplicate, naming the entry.
 */
export function parseAmqpNodes(list: string): AmqpNode[] {
  const entries = list
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  if (entries.length === 0) throw new Error('RABBITMQ_CLUSTER_NODES must name at least one host:port');
  const nodes = entries.map((entry) => {
    const match = /^(\[[^\]]+\]|[^:[\]]+):(\d+)$/.exec(entry);
    const port = Number(match?.[2]);
    if (!match || !Number.isInteger(port) || port < 1 || port > 65_535) {
      throw new Error(`RABBITMQ_CLUSTER_NODES entries are host:port, got "${entry}"`);
    }
    return { host: match[1]!.replace(/^\[|\]$/g, ''), port };
  });
  const seen = new Set<string>();
  for (const node of nodes) {
    const key = `${node.host}:${node.port}`;
    if (seen.has(key)) throw new Error(`RABBITMQ_CLUSTER_NODES names ${key} twice`);
    seen.add(key);
  }
  return nodes;
}
