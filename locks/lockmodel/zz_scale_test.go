package lockmodel

import (
	"testing"
	"time"
)

func TestScaleProbe(t *testing.T) {
	for _, reliable := range []bool{true, false} {
		for _, per := range []int{200, 1000, 4000} {
			for seed := range uint64(2) {
				h := benchHistory(randomClients, per, seed, reliable)
				start := time.Now()
				res, _ := Check(h, 60*time.Second)
				t.Logf("reliable=%t per=%d seed=%d ops=%d parts=%d: %s in %v", reliable, per, seed, len(h), res.Partitions, res.Linearizable, time.Since(start))
			}
		}
	}
}
