"""The order in which dbt's threads take the build's nodes: the longest chain first.

dbt 1.11 gives a node to its thread pool as soon as the node's parents are done, and the pool
runs nodes in the order it got them. dbt's priority (a node's topological level) therefore
chooses only among nodes that become ready at the same moment. At the start of our build the
pool gets the 60-odd tests of the seeds and the staging models at once, and the chain that decides
when the build ends (customers matched, order lines priced, aggregated, scored, tiered, the marts)
waits behind them, as its later links wait behind the tests that each finished model releases.
dbt-core issue 10632 asks for a way to set this order.

``prefer_longest_chain`` changes two things in dbt's ``GraphQueue``, in the process that calls
it (the run's warm dbt, ``orchestration/dbt_warm.py``):

- a node's priority is the length, in nodes, of the longest chain of the build's graph that
  starts at it (tests included: in a build, a model's children wait for its tests);
- the queue gives out a node only while fewer nodes are running than dbt has threads, so that
  the choice is made when a thread is free, among every node ready then.

Which nodes run, and after which others, is unchanged; only the order among ready nodes is. A
dbt whose queue is not the one this was written for is left as it is, as is a dbt started
without the warm process: both run the same build in dbt's own order.
"""

from __future__ import annotations


def prefer_longest_chain() -> bool:
    """Make dbt's build queue run the longest chain first; False where this dbt's queue differs."""
    try:
        import networkx as nx
        from dbt.graph.queue import GraphQueue
        from dbt.task.runnable import GraphRunnableTask
    except ImportError:
        return False
    if not all(hasattr(GraphQueue, name) for name in ("_get_scores", "get")):
        return False
    if not hasattr(GraphRunnableTask, "run_queue"):
        return False
    if getattr(GraphQueue, "_longest_chain_first", False):
        return True

    def chain_lengths(_queue, graph) -> dict[str, int]:
        """Lower runs first: minus the number of nodes on the longest chain from each node."""
        length: dict[str, int] = {}
        for node in reversed(list(nx.topological_sort(graph))):
            length[node] = 1 + max((length[child] for child in graph.successors(node)), default=0)
        return {node: -count for node, count in length.items()}

    give_out = GraphQueue.get

    def get_when_a_thread_is_free(queue, block: bool = True, timeout: float | None = None):
        threads = getattr(queue, "threads", None)
        if threads and block and timeout is None:
            with queue.lock:  # mark_done notifies some_task_done under this lock
                while len(queue.in_progress) >= threads:
                    queue.some_task_done.wait()
        return give_out(queue, block, timeout)

    run_queue = GraphRunnableTask.run_queue

    def run_queue_knowing_threads(task, pool) -> None:
        task.job_queue.threads = task.config.threads
        return run_queue(task, pool)

    GraphQueue._get_scores = chain_lengths
    GraphQueue.get = get_when_a_thread_is_free
    GraphQueue._longest_chain_first = True
    GraphRunnableTask.run_queue = run_queue_knowing_threads
    return True
