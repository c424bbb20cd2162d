package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"

	"github.com/anishathalye/porcupine"

	"github.com/raftlock/raftlock/locks/lockmodel"
)

// histLine is one line of history.jsonl: an operation as recorded, for
// reading a failed run without its (large) visualization.
type histLine struct {
	Op     int    `json:"op"` // the index the verdicts name
	Client int    `json:"client"`
	Call   int64  `json:"call_ns"`
	Return int64  `json:"return_ns"` // -1: unknown outcome
	Key    string `json:"request_id,omitempty"`
	Input  string `json:"input"`
	Output string `json:"output"`
}

// writeHistory writes one line per operation to path.
func writeHistory(path string, ops []porcupine.Operation, keys []string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for i, op := range ops {
		ret := op.Return
		if ret == math.MaxInt64 {
			ret = -1
		}
		line := histLine{Op: i, Client: op.ClientId, Call: op.Call, Return: ret, Key: keys[i],
			Input: op.Input.(lockmodel.Input).String(), Output: op.Output.(lockmodel.Output).String()}
		if err := enc.Encode(line); err != nil {
			f.Close() // the encode error is the one to report
			return fmt.Errorf("history %s: %w", path, err)
		}
	}
	if err := w.Flush(); err != nil {
		f.Close() // likewise
		return fmt.Errorf("history %s: %w", path, err)
	}
	return f.Close()
}
