package main

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"studio/studiotest"
)

// rssKB reads a process's resident memory (VmRSS) or its peak (VmHWM).
func rssKB(t *testing.T, pid int, field string) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	m := regexp.MustCompile(field + `:\s+(\d+) kB`).FindSubmatch(b)
	require.NotNil(t, m)
	kb, _ := strconv.Atoi(string(m[1]))
	return kb
}

// TestUploadIsStreamed uploads 200 MB to a studio process and checks that
// its resident memory grows by less than 50 MB: the upload is streamed to
// disk, never held in memory. BENCHMARKS.md records the figure.
func TestUploadIsStreamed(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("needs /proc")
	}
	const size = 200 << 20
	bin := buildStudio(t)
	p := startStudio(t, bin, "--data-dir", t.TempDir())
	cmd, base, token := p.cmd, p.base, p.token
	require.NotEmpty(t, token)
	// Warm the server up, so that what is measured is the upload.
	resp, err := http.Get(base + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	before := rssKB(t, cmd.Process.Pid, "VmRSS")

	// Stream a multipart body of 200 MB of zeros, of no stated length.
	sum := md5.New()
	ops := `{"query":"mutation($in: UploadFileInput!) { uploadFile(input: $in) { checksum size } }","variables":{"in":{"file":null,"preset":"high_res_video","duration":60}}}`
	body, contentType := studiotest.Multipart(t, ops, `{"0": ["variables.in.file"]}`, "big.mp4", io.TeeReader(studiotest.Repeat(0, size), sum))
	r := studiotest.New(t, base).Post(token, contentType, body)
	require.Empty(t, r.Errors)
	var out struct {
		UploadFile struct {
			Checksum string
			Size     int64
		}
	}
	require.NoError(t, r.Decode(&out), "HTTP %d: %.300s", r.Status, r.Body)
	require.EqualValues(t, size, out.UploadFile.Size)
	require.Equal(t, hex.EncodeToString(sum.Sum(nil)), out.UploadFile.Checksum)

	peak := rssKB(t, cmd.Process.Pid, "VmHWM")
	grew := (peak - before) / 1024
	t.Logf("resident memory: %d MB before, %d MB at peak: +%d MB for a %d MB upload", before/1024, peak/1024, grew, size>>20)
	require.Less(t, grew, 50, "the upload was buffered in memory")
}
