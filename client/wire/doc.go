// Package wire holds the JSON bodies, header names and error codes of
// raftlock's HTTP API (DESIGN.md §5), shared by the server and the Go SDK so
// the two can never disagree on a field name. It imports only the standard
// library and holds no behaviour beyond encoding.
package wire
