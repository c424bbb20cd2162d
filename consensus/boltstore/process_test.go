package boltstore

// These tests run a second copy of the test binary as a real second process
// (TestMain dispatches on an environment variable) to prove what one process
// cannot show about another: the file lock keeps a second raftlock process
// out with a clear error, and a process that dies after filling a write
// transaction but before its commit leaves the previous state on disk.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/raftlock/raftlock/consensus"
)

const (
	helperModeEnv = "RAFTLOCK_BOLTSTORE_HELPER"
	helperPathEnv = "RAFTLOCK_BOLTSTORE_PATH"

	// helperHold opens the store, prints helperReady and holds it until
	// stdin closes.
	helperHold = "hold"
	// helperCrash opens the store, saves crashFirst, then dies (exit code
	// crashExitCode) inside the Save of crashSecond, just before its commit.
	helperCrash = "crash"

	// helperStream opens the store and saves streamEntry(1), (2), ... for
	// ever, printing each index once its Save returned.
	helperStream = "stream"

	helperReady   = "ready"
	crashExitCode = 7
)

// crashFirst and crashSecond are the two Saves of the crash helper.
func crashFirst() (consensus.HardState, []consensus.Entry) {
	return consensus.HardState{Term: 2, Vote: 1, Commit: 3}, append(makeEntries(1, 3, 1), makeEntries(4, 10, 2)...)
}

func crashSecond() (consensus.HardState, []consensus.Entry) {
	return consensus.HardState{Term: 5, Vote: 3, Commit: 3}, makeEntries(6, 20, 5)
}

// streamKillAfter is how many Saves the stream helper has acknowledged
// when it is killed: with streamEntry's size, about 9 journal flushes.
const streamKillAfter = 400

// streamEntry is the stream helper's entry at index i.
func streamEntry(i consensus.Index) consensus.Entry {
	data := make([]byte, 6<<10)
	for k := range data {
		data[k] = byte(uint64(i)*31 + uint64(k))
	}
	return consensus.Entry{Index: i, Term: 1, Data: data}
}

// runHelper is the body of a helper process; it returns the exit code.
func runHelper(mode, path string) int {
	s, err := Open(path, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	switch mode {
	case helperHold:
		fmt.Println(helperReady)
		if _, err := io.Copy(io.Discard, os.Stdin); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
	case helperCrash:
		hs, ents := crashFirst()
		if err := s.Save(hs, ents); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		s.beforeCommit = func() error {
			os.Exit(crashExitCode) // The transaction is full and never commits.
			return nil
		}
		hs, ents = crashSecond()
		if err := s.Save(hs, ents); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
		return 2
	case helperStream:
		for i := consensus.Index(1); ; i++ {
			if err := s.Save(consensus.HardState{Term: 1, Vote: 1, Commit: i}, []consensus.Entry{streamEntry(i)}); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 2
			}
			fmt.Println(i)
		}
	default:
		fmt.Fprintf(os.Stderr, "unknown helper mode %q\n", mode)
		return 2
	}
	if err := s.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	return 0
}

func helperCommand(t *testing.T, mode, path string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("os.Executable() = %v", err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), helperModeEnv+"="+mode, helperPathEnv+"="+path)
	cmd.Stderr = os.Stderr
	return cmd
}

func TestSecondProcessIsRefused(t *testing.T) {
	path := testPath(t)
	cmd := helperCommand(t, helperHold, path)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatalf("StdinPipe() = %v", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("StdoutPipe() = %v", err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("Start() = %v", err)
	}
	exited := false
	t.Cleanup(func() {
		if !exited {
			if err := cmd.Process.Kill(); err != nil {
				t.Errorf("Kill() = %v", err)
			}
			_ = cmd.Wait() // Killed: its exit status says so.
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != helperReady {
		t.Fatalf("helper said %q, %v; want %q", line, err, helperReady)
	}

	// The helper holds the lock: this process is the second one.
	start := time.Now()
	s, err := Open(path, Options{LockWait: 200 * time.Millisecond})
	took := time.Since(start)
	if !errors.Is(err, ErrInUse) {
		if s != nil {
			t.Errorf("Close() = %v", s.Close())
		}
		t.Fatalf("Open(%q) while another process holds it = %v; want ErrInUse", path, err)
	}
	wantMsg := "boltstore: data dir in use by another raftlock process: " + path
	if err.Error() != wantMsg {
		t.Errorf("Open(%q) error = %q; want %q", path, err, wantMsg)
	}
	t.Logf("second Open refused after %v", took)

	// Once the holder exits, the file opens.
	if err := stdin.Close(); err != nil {
		t.Fatalf("closing the helper's stdin = %v", err)
	}
	exited = true
	if err := cmd.Wait(); err != nil {
		t.Fatalf("helper exited with %v; want success", err)
	}
	openStore(t, path, Options{})
}

func TestSecondOpenInProcessIsRefused(t *testing.T) {
	// flock locks belong to the open file, so a second Open in the same
	// process is refused as well: two nodes of a test cluster given the same
	// data dir fail instead of sharing it.
	path := testPath(t)
	openStore(t, path, Options{})
	s, err := Open(path, Options{LockWait: 100 * time.Millisecond})
	if !errors.Is(err, ErrInUse) {
		if s != nil {
			t.Errorf("Close() = %v", s.Close())
		}
		t.Fatalf("second Open(%q) = %v; want ErrInUse", path, err)
	}
}

func TestCrashBeforeCommitKeepsPreviousState(t *testing.T) {
	path := testPath(t)
	cmd := helperCommand(t, helperCrash, path)
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != crashExitCode {
		t.Fatalf("crash helper = %v; want exit code %d", err, crashExitCode)
	}
	s := openStore(t, path, Options{})
	hs, ents := crashFirst()
	checkView(t, viewOf(t, s), storageView{
		HardState: hs, First: 1, Last: 10,
		Terms:   []consensus.Term{0, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2},
		Entries: ents,
	})
}
