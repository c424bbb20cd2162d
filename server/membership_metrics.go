package server

import (
	"github.com/prometheus/client_golang/prometheus"
)

// membershipCollectors are the metrics of membership changes, leadership
// transfer and snapshots: campaigns by cause (an election timeout, or a
// transfer; a rolling restart should add none of the first), the applied
// membership's voters and learners, and the snapshot counters.
func membershipCollectors(n *Node) []prometheus.Collector {
	count := func(learners bool) func() float64 {
		return func() float64 {
			m := n.drv.Membership().Membership
			c := 0
			for _, id := range m.Members() {
				if m.IsVoter(id) != learners {
					c++
				}
			}
			return float64(c)
		}
	}
	counter := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, f)
	}
	return []prometheus.Collector{
		newFuncFamily("raftlock_campaigns_total", "Campaigns this node started, by cause: timeout (an election timeout) or transfer (a leadership transfer).",
			prometheus.CounterValue, []string{"cause"}, func() []promSample {
				st := n.drv.Status()
				return []promSample{
					{labels: []string{"timeout"}, value: float64(st.TimeoutCampaigns)},
					{labels: []string{"transfer"}, value: float64(st.TransferCampaigns)},
				}
			}),
		gaugeFunc("raftlock_members_voters", "Voters of the membership this node applied (both halves of a joint configuration).", count(false)),
		gaugeFunc("raftlock_members_learners", "Learners of the membership this node applied.", count(true)),
		counter("raftlock_snapshots_taken_total", "Snapshots of the lock table this node wrote.", func() float64 {
			return float64(n.drv.SnapshotStats().Taken)
		}),
		counter("raftlock_snapshots_installed_total", "Snapshots this node installed from a leader.", func() float64 {
			return float64(n.drv.SnapshotStats().Installed)
		}),
		gaugeFunc("raftlock_snapshot_index", "Log index of the latest snapshot here (0: none).", func() float64 {
			return float64(n.drv.SnapshotStats().Index)
		}),
		gaugeFunc("raftlock_snapshot_last_bytes", "Size of the latest snapshot file written here.", func() float64 {
			return float64(n.drv.SnapshotStats().LastBytes)
		}),
	}
}
