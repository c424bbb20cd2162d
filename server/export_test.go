package server

// ErrorCodes lists the (code, status) pairs of the server's error table, in
// its order, for the external tests that compare it with client/wire and
// openapi.yaml.
func ErrorCodes() []struct {
	Code   string
	Status int
} {
	var out []struct {
		Code   string
		Status int
	}
	for _, r := range errorTable() {
		out = append(out, struct {
			Code   string
			Status int
		}{r.code, r.status})
	}
	return out
}
