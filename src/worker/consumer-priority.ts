/**
 * A broker-fed worker's consumer priority (`ConsumeOptions.priority`): minus the time it
 * subscribed, in ms — so the earliest-started worker of a type has the highest, and a broker that
 * honours priorities (RabbitMQ) fills it up to its prefetch (its free slots) before the next one
 * gets anything. Work packs onto the fewest workers; the late ones stay idle and the autoscaler
 * retires them, as the gateway's `packingOrder` does without a broker.
 *
 * Why the worker's own clock: it is what every worker knows when it subscribes, with no
 * coordination. Its id's sequence number is not: it restarts with gaffer and is per gaffer
 * replica, so two live workers could share it. A start time stays ordered across gaffer restarts
 * and replicas (up to the hosts' clock skew), and a worker that restarts comes back lowest — the
 * newest, as in `packingOrder`. Millisecond resolution so workers started by one scale-out still
 * get distinct priorities (equal ones are served round robin); the value needs 41 bits, which
 * RabbitMQ takes (amqplib sends it as a 64-bit `long`). Pure.
 */
export function consumerPriority(subscribedAtMs: number): number {
  return -Math.floor(subscribedAtMs);
}
