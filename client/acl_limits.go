package client

// TokenBytesMax is the longest ACL token Config.Token may carry; the
// server refuses longer secrets unread. It sits beside acl.go so access
// control stays one room.
const TokenBytesMax = 256
