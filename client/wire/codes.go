package wire

// Stable error codes of the HTTP API. Clients match on these strings; they
// never change meaning once released.
const (
	CodeInvalidArgument  = "invalid_argument"   // 400
	CodeUnauthorized     = "unauthorized"       // 401
	CodeForbidden        = "forbidden"          // 403
	CodeNotFound         = "not_found"          // 404
	CodeLockHeld         = "lock_held"          // 409
	CodeNotHolder        = "not_holder"         // 409
	CodeStaleToken       = "stale_token"        // 409
	CodeNotLeader        = "not_leader"         // 409, elections: not the election's leader
	CodeChangeInProgress = "change_in_progress" // 409, membership: another change is not finished
	CodeTooLarge         = "too_large"          // 413
	CodeTooManyRequests  = "too_many_requests"  // 429, with Retry-After
	CodeInternal         = "internal"           // 500, a bug
	CodeNoLeader         = "no_leader"          // 503, with Retry-After
	CodeTimeout          = "timeout"            // 504
)

// Codes lists every error code with its HTTP status, in a stable order.
var Codes = []struct {
	Code   string
	Status int
}{
	{CodeInvalidArgument, 400},
	{CodeUnauthorized, 401},
	{CodeForbidden, 403},
	{CodeNotFound, 404},
	{CodeLockHeld, 409},
	{CodeNotHolder, 409},
	{CodeStaleToken, 409},
	{CodeNotLeader, 409},
	{CodeChangeInProgress, 409},
	{CodeTooLarge, 413},
	{CodeTooManyRequests, 429},
	{CodeInternal, 500},
	{CodeNoLeader, 503},
	{CodeTimeout, 504},
}

// Header names of the HTTP API.
const (
	// HeaderLeader names the leader that answered a forwarded request.
	HeaderLeader = "X-Raftlock-Leader"
	// HeaderIndex carries the index of a blocking GET's answer.
	HeaderIndex = "X-Raftlock-Index"
	// HeaderIdempotencyKey carries a mutating request's request id.
	HeaderIdempotencyKey = "Idempotency-Key"
	// HeaderRetryAfter is the standard Retry-After, in whole seconds.
	HeaderRetryAfter = "Retry-After"
)

// Error is the body of every error response: {"error": {...}}.
type Error struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the code and message of an error, and for lock_held the holder.
type ErrorDetail struct {
	Code    string  `json:"code"`
	Message string  `json:"message"`
	Holder  *Holder `json:"holder,omitempty"`
}
