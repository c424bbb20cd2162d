package locks

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// Tests of the command envelope: encode/decode round trip, decode refusals
// (garbage, trailing bytes, unknown kinds and fields, oversize), and that
// Apply turns each into an invalid_argument or too_large result that changes
// nothing.

func TestEncodeDecodeRoundTrip(t *testing.T) {
	cases := []struct {
		name string
		c    Command
	}{
		{"create lease", Command{Kind: KindCreateLease, TTL: dur(10 * time.Second), RequestID: "r1", Time: 5}},
		{"acquire all fields", Command{Kind: KindAcquire, Name: "a/b:c.d-e_f", LeaseID: 7, Owner: "me", Value: "h:1", Wait: true, Election: true}},
		{"checkpoints", Command{Kind: KindCheckpointLeases, Checkpoints: []Checkpoint{{1, 0}, {2, dur(time.Second)}}}},
		{"release", Command{Kind: KindRelease, Name: "a", Token: 1 << 60}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := EncodeCommand(tc.c)
			if err != nil {
				t.Fatalf("EncodeCommand(%+v) = %v; want no error", tc.c, err)
			}
			got, err := DecodeCommand(b)
			if err != nil || fingerprint(&got) != fingerprint(&tc.c) || got.RequestID != tc.c.RequestID || got.Time != tc.c.Time {
				t.Errorf("DecodeCommand(EncodeCommand(%+v)) = %+v, %v; want the same command", tc.c, got, err)
			}
		})
	}
}

func TestEncodeRefusesInvalid(t *testing.T) {
	if _, err := EncodeCommand(Command{Kind: KindAcquire, Name: "a b"}); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("EncodeCommand(bad name) = %v; want %v", err, ErrInvalidArgument)
	}
}

func TestDecodeRefusals(t *testing.T) {
	good := raw(t, Command{Kind: KindCreateLease})
	cases := []struct {
		name string
		data []byte
		code string
	}{
		{"empty", nil, "invalid_argument"},
		{"garbage", []byte{0xc1, 0xff, 0x00}, "invalid_argument"},
		{"not a map", []byte{0x05}, "invalid_argument"},
		{"trailing bytes", append(append([]byte{}, good...), 0x00), "invalid_argument"},
		{"truncated", good[:len(good)-1], "invalid_argument"},
		{"unknown field", []byte{0x81, 0xa1, 'z', 0x01}, "invalid_argument"},
		{"kind zero", raw(t, Command{}), "invalid_argument"},
		{"kind unknown", raw(t, Command{Kind: kindEnd}), "invalid_argument"},
		{"negative time", raw(t, Command{Kind: KindCreateLease, Time: -1}), "invalid_argument"},
		{"request id too long", raw(t, Command{Kind: KindCreateLease, RequestID: strings.Repeat("r", RequestIDBytesMax+1)}), "invalid_argument"},
		{"too large", make([]byte, CommandBytesMax+1), "too_large"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeCommand(tc.data)
			if got := Code(err); got != tc.code {
				t.Fatalf("DecodeCommand(%x) = %v; want code %q", tc.data, err, tc.code)
			}
			tbl := NewTable()
			r := tbl.Apply(1, tc.data)
			if Code(r.Err) != tc.code || len(tbl.Changes()) != 0 || tbl.Stats() != (Stats{}) {
				t.Errorf("Apply(%x) = %v, changes %v; want code %q, nothing changed", tc.data, r.Err, tbl.Changes(), tc.code)
			}
		})
	}
}

func TestCode(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{errors.New("x"), "internal"},
		{errorf(ErrInvalidArgument, "x %d", 1), "invalid_argument"},
		{errorf(ErrTooLarge, "x"), "too_large"},
		{errorf(ErrNotFound, "x"), "not_found"},
		{errorf(ErrLockHeld, "x"), "lock_held"},
		{errorf(ErrNotHolder, "x"), "not_holder"},
		{errorf(ErrStaleToken, "x"), "stale_token"},
		{errorf(ErrNotLeader, "x"), "not_leader"},
	}
	for _, tc := range cases {
		if got := Code(tc.err); got != tc.want {
			t.Errorf("Code(%v) = %q; want %q", tc.err, got, tc.want)
		}
		if tc.want != "" && tc.want != "internal" {
			if s := sentinelFor(tc.want); !errors.Is(tc.err, s) {
				t.Errorf("sentinelFor(%q) = %v; want the sentinel of %v", tc.want, s, tc.err)
			}
		}
	}
}

func TestDurationString(t *testing.T) {
	cases := []struct {
		d    Duration
		want string
	}{
		{0, "0s"}, {dur(15 * time.Second), "15s"}, {dur(1500 * time.Millisecond), "1500ms"}, {dur(2 * time.Microsecond), "2µs"}, {7, "7ns"},
	}
	for _, tc := range cases {
		if got := tc.d.String(); got != tc.want {
			t.Errorf("Duration(%d).String() = %q; want %q", int64(tc.d), got, tc.want)
		}
	}
}
