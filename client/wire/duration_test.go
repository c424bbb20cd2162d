// These tests prove durations travel as Go duration strings and that anything
// else is refused with an error naming the bad value.
package wire

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestDurationRoundTrip(t *testing.T) {
	b, err := json.Marshal(LeaseRequest{TTL: Duration(15 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"ttl":"15s"}`; got != want {
		t.Fatalf("Marshal = %s; want %s", got, want)
	}
	var back LeaseRequest
	if err := json.Unmarshal(b, &back); err != nil || back.TTL.D() != 15*time.Second {
		t.Fatalf("Unmarshal(%s) = %v, %v; want 15s", b, back.TTL.D(), err)
	}
}

func TestDurationRejects(t *testing.T) {
	for _, in := range []string{`{"ttl":10}`, `{"ttl":"ten"}`, `{"ttl":true}`} {
		var r LeaseRequest
		err := json.Unmarshal([]byte(in), &r)
		if err == nil || !strings.Contains(err.Error(), "duration") {
			t.Errorf("Unmarshal(%s) = %v; want a duration error", in, err)
		}
	}
}

func TestCodesUniqueWithStatus(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range Codes {
		if seen[c.Code] {
			t.Errorf("code %q listed twice", c.Code)
		}
		seen[c.Code] = true
		if c.Status < 400 || c.Status > 599 {
			t.Errorf("code %q has status %d; want 4xx or 5xx", c.Code, c.Status)
		}
	}
}
