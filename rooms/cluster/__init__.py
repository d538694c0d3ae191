"""Many nodes, one expo (issue 13): node ids, load reports, placement by load, drain.

:class:`ClusterNode` is this node's place among the others; :class:`Reporter` writes its load
every interval; :mod:`rooms.cluster.placement` is the pure decision of where a new room goes;
:class:`NodeDirectory` is the port (memory and Redis) that holds claims and reports.
"""

from rooms.cluster.directory import NodeClaim, NodeDirectory
from rooms.cluster.memory_directory import MemoryDirectory
from rooms.cluster.node import ClusterNode
from rooms.cluster.report import Gauges, NodeReport, Usage, load_of
from rooms.cluster.reporter import Reporter

__all__ = ["ClusterNode", "Gauges", "MemoryDirectory", "NodeClaim", "NodeDirectory",
           "NodeReport", "Reporter", "Usage", "load_of"]
