package main

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
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

	// Stream a multipart body of 200 MB of zeros.
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	sum := md5.New()
	go func() {
		ops := `{"query":"mutation($in: UploadFileInput!) { uploadFile(input: $in) { checksum size } }","variables":{"in":{"file":null,"preset":"high_res_video","duration":60}}}`
		_ = mw.WriteField("operations", ops)
		_ = mw.WriteField("map", `{"0": ["variables.in.file"]}`)
		part, _ := mw.CreateFormFile("0", "big.mp4")
		chunk := make([]byte, 1<<20)
		for range size >> 20 {
			_, _ = part.Write(chunk)
			sum.Write(chunk)
		}
		_ = mw.Close()
		_ = pw.Close()
	}()
	req, err := http.NewRequest(http.MethodPost, base+"/graphql", pr)
	require.NoError(t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	var r struct {
		Data struct {
			UploadFile struct {
				Checksum string
				Size     int64
			}
		}
		Errors []any
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&r))
	resp.Body.Close()
	require.Empty(t, r.Errors)
	require.EqualValues(t, size, r.Data.UploadFile.Size)
	require.Equal(t, hex.EncodeToString(sum.Sum(nil)), r.Data.UploadFile.Checksum)

	peak := rssKB(t, cmd.Process.Pid, "VmHWM")
	grew := (peak - before) / 1024
	t.Logf("resident memory: %d MB before, %d MB at peak: +%d MB for a %d MB upload", before/1024, peak/1024, grew, size>>20)
	require.Less(t, grew, 50, "the upload was buffered in memory")
}
