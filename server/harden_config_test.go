// These tests prove the validation of HTTPLimits (each bound refused with
// both numbers, NaN included) and the defaults it fills in.
package server

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestHTTPLimitsValidate(t *testing.T) {
	cases := []struct {
		name string
		lim  HTTPLimits
		want string // "" when valid; else a part of the error
	}{
		{"zero is valid", HTTPLimits{}, ""},
		{"rate alone", HTTPLimits{RateLimit: 0.5}, ""},
		{"rate and burst", HTTPLimits{RateLimit: 100, RateBurst: 500}, ""},
		{"largest", HTTPLimits{RateLimit: RateLimitMax, RateBurst: RateBurstMax, ReadHeaderTimeout: ReadHeaderTimeoutMax}, ""},
		{"negative rate", HTTPLimits{RateLimit: -1}, "rate-limit is -1 requests/s, want within [0, 1e+06]"},
		{"rate over max", HTTPLimits{RateLimit: RateLimitMax + 1}, "want within [0, 1e+06]"},
		{"NaN rate", HTTPLimits{RateLimit: math.NaN()}, "rate-limit is NaN"},
		{"infinite rate", HTTPLimits{RateLimit: math.Inf(1)}, "rate-limit is +Inf"},
		{"negative burst", HTTPLimits{RateLimit: 1, RateBurst: -1}, "rate-burst is -1, want within [0, 1000000]"},
		{"burst over max", HTTPLimits{RateLimit: 1, RateBurst: RateBurstMax + 1}, "rate-burst is 1000001, want within [0, 1000000]"},
		{"burst without rate", HTTPLimits{RateBurst: 5}, "rate-burst is 5 but rate-limit is 0"},
		{"header timeout below min", HTTPLimits{ReadHeaderTimeout: time.Millisecond}, "read-header-timeout is 1ms, want within [10ms, 10m0s]"},
		{"header timeout over max", HTTPLimits{ReadHeaderTimeout: time.Hour}, "read-header-timeout is 1h0m0s, want within [10ms, 10m0s]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.lim.validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("validate(%+v) = %v; want nil", tc.lim, err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("validate(%+v) = %v; want ErrInvalidConfig with %q", tc.lim, err, tc.want)
			}
		})
	}
}

func TestHTTPLimitsDefaults(t *testing.T) {
	cases := []struct {
		name       string
		lim        HTTPLimits
		wantBurst  int
		wantHeader time.Duration
	}{
		{"burst is the rate rounded up", HTTPLimits{RateLimit: 2.5}, 3, ReadHeaderTimeout},
		{"burst at least one", HTTPLimits{RateLimit: 0.1}, 1, ReadHeaderTimeout},
		{"given burst and timeout", HTTPLimits{RateLimit: 1, RateBurst: 7, ReadHeaderTimeout: time.Second}, 7, time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.lim.rateBurst(); got != tc.wantBurst {
				t.Errorf("rateBurst(%+v) = %d; want %d", tc.lim, got, tc.wantBurst)
			}
			if got := tc.lim.readHeaderTimeout(); got != tc.wantHeader {
				t.Errorf("readHeaderTimeout(%+v) = %v; want %v", tc.lim, got, tc.wantHeader)
			}
		})
	}
}
