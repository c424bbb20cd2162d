package client

// StartExampleServer starts the in-test fake of the HTTP API for the
// runnable examples and returns its endpoint and a function that stops it.
// It exists only in the test binary.
func StartExampleServer() (endpoint string, stop func()) {
	st := newFakeState()
	n := newFakeNode(nil, st)
	return n.URL(), func() { st.close(); n.server.Close() }
}
