package client

import "time"

// Every bound and default of the SDK. Exceeding a bound that comes from the
// caller is refused with ErrInvalidArgument and a message carrying both numbers.
const (
	// EndpointsMax bounds the endpoints a Client knows: those configured plus
	// leaders learned from X-Raftlock-Leader.
	EndpointsMax = 16

	// TimeoutDefault is the limit of one HTTP attempt when Config.Timeout is 0.
	// A request that waits on the server (acquire or campaign with wait) gets
	// its wait on top.
	TimeoutDefault = 5 * time.Second

	// AttemptsMax is how many times one call is sent before its last error is
	// returned, retries on other endpoints included.
	AttemptsMax = 8

	// BackoffMin is the first retry delay; each retry doubles it up to
	// BackoffMax. The delay actually slept is drawn uniformly from
	// [delay/2, delay] so clients that failed together do not retry together.
	BackoffMin = 50 * time.Millisecond

	// BackoffMax caps the retry delay.
	BackoffMax = 2 * time.Second

	// RetryAfterMax caps how long a server's Retry-After can make one retry wait.
	RetryAfterMax = 10 * time.Second

	// ResponseBytesMax bounds a response body the SDK reads (a full listing
	// of ListMax locks fits with room to spare).
	ResponseBytesMax = 4 << 20

	// ErrorMessageBytesMax bounds the part of a non-JSON error body kept in
	// Error.Message.
	ErrorMessageBytesMax = 256

	// DrainBytesMax is how much of an unread body is drained before closing
	// it, so the connection can be reused.
	DrainBytesMax = 4 << 10

	// EventBytesMax bounds one line of an event stream.
	EventBytesMax = 64 << 10

	// ObserveIdleMax is how long an event stream may stay silent (no event,
	// no keep-alive comment) before the SDK drops it and reconnects.
	ObserveIdleMax = 45 * time.Second

	// IdleConnsPerHostMax bounds the idle keep-alive connections kept per
	// endpoint.
	IdleConnsPerHostMax = 64

	// IdleConnAgeMax is how long an idle keep-alive connection is kept.
	IdleConnAgeMax = 90 * time.Second

	// IdempotencyKeyBytes is the size of a request id before hex encoding: 128 bits.
	IdempotencyKeyBytes = 16

	// TTLDefault is a Session's lease ttl without WithTTL. The server decides
	// the accepted range (DESIGN.md §4: 1s to 1h); the SDK does not repeat it.
	TTLDefault = 15 * time.Second

	// KeepAliveDivisor sets a Session's keepalive period: ttl / KeepAliveDivisor.
	KeepAliveDivisor = 3

	// LossMarginDivisor sets how early a Session reports a lease it could
	// not confirm as lost: ttl / LossMarginDivisor before the send time of the
	// last acknowledged keepalive plus ttl, so Done closes before any server
	// could have expired the lease even with timer and scheduling delays.
	LossMarginDivisor = 10

	// WaitMax is the longest wait one acquire or campaign asks the server
	// for; Mutex.Lock and Election.Campaign re-issue the request when a
	// window ends without a grant.
	WaitMax = 5 * time.Minute

	// DeadlineMarginDivisor sets how long before its ctx's deadline a Lock
	// or Campaign asks the server to end its wait: the time left /
	// DeadlineMarginDivisor, at most DeadlineMarginMax. The server then
	// withdraws the wait and answers before the SDK stops listening, so no
	// wait outlives the call.
	DeadlineMarginDivisor = 4

	// DeadlineMarginMax caps that margin; a window that ends this close to
	// the deadline is not re-queued.
	DeadlineMarginMax = 500 * time.Millisecond

	// CleanupTimeout bounds the release a Mutex or Election sends after its
	// ctx ended while a grant may have raced the cancellation.
	CleanupTimeout = 5 * time.Second
)
