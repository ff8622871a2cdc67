package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// onboardingSnippets returns the sh blocks of docs/orgapi.md's "Onboarding an
// organization" section, in order: the test runs what the docs show.
func onboardingSnippets(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../../docs/orgapi.md")
	require.NoError(t, err)
	readme := string(b)
	start := strings.Index(readme, "\n## Onboarding an organization\n")
	require.GreaterOrEqual(t, start, 0, "docs/orgapi.md has no onboarding section")
	section := readme[start+1:]
	section = section[:strings.Index(section, "\n## ")]
	var blocks []string
	for _, m := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(section, -1) {
		blocks = append(blocks, m[1])
	}
	require.NotEmpty(t, blocks)
	return blocks
}

// The onboarding snippets of docs/orgapi.md, curl and the embedsso command,
// run in order against the example and do what the docs say.
func TestTheDocsOnboarding(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the docs' snippets need %s (.ci/run installs it)", tool)
		}
	}
	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "embedsso"), "github.com/embedsso/embedsso/cmd/embedsso")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "build the embedsso command:\n%s", out)
	db := filepath.Join(dir, "embedsso-example.db")

	var transcript string
	runOnBanner(t, db, func(u urls, banner string) {
		m := bannerKey.FindStringSubmatch(banner)
		require.NotNil(t, m, banner)
		key := m[1]
		// The blocks are one shell session: a later one uses what an earlier
		// one exported. -x puts each command in the output, to show which failed.
		script := strings.Join(onboardingSnippets(t), "\n")
		cmd := exec.Command("bash", "-xeuo", "pipefail", "-c", script)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "APP="+u.app, "KEY="+key, "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"))
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		require.NoError(t, err, "the snippets failed:\n%s\n%s", stdout.String(), stderr.String())
		transcript = stdout.String()
		assert.NotContains(t, transcript, `"error"`, "no call was refused")

		// What the docs say happened, happened.
		assert.Contains(t, transcript, `{"data":{"id":"org_acme","name":"Acme","fullEmbedEnabled":true,`, "the GET")
		assert.Contains(t, transcript, "\n302\n", "the token logged in")
		assert.Contains(t, transcript, "verdict: refused, 403 origin_not_allowed")
		assert.Contains(t, transcript, "\nexit status 1\n", "inspect exits 1 on a refusal")
		assert.Contains(t, transcript, `"jwtSecretKeyId"`, "the rotation's answer holds the new secret")
		assert.Contains(t, transcript, `"sessionsRevoked":1`, "jane's session ended")
		assert.Contains(t, transcript, `"fullEmbedEnabled":false`, "the PATCH")
		assert.Contains(t, transcript, `"id": "org_beta"`, "embedsso org create")
		assert.Contains(t, transcript, `{"data":{"id":"org_beta"`, "the scoped key reads its organization")
		assert.Regexp(t, `\nrevoked [0-9a-f]{16}\n`, transcript)
		acme := getOrg(t, u.app, key, "org_acme")
		assert.False(t, acme.FullEmbedEnabled, "embedding is off")
		assert.Len(t, acme.JWTSecrets, 2, "the rotation kept the old secret for its grace period")
		beta := getOrg(t, u.app, key, "org_beta")
		assert.Equal(t, []string{"ADMIN", "MEMBER"}, beta.EmbedAllowedRoles)
		assert.Len(t, beta.JWTSecrets, 2)
		var keys int
		require.NoError(t, openAdminDB(t, db).QueryRowContext(context.Background(),
			`SELECT COUNT(*) FROM embedsso_api_keys WHERE name = 'Beta back office'`).Scan(&keys))
		assert.Zero(t, keys, "the snippet revoked the key it made")
	})

	// "one created through the API lasts until the next start"
	runOnBanner(t, db, func(u urls, banner string) {
		key := bannerKey.FindStringSubmatch(banner)[1]
		status, _ := apiGet(t, u.app, "/api/public/organizations/org_acme", key)
		assert.Equal(t, http.StatusNotFound, status)
	})
}

type apiOrg struct {
	FullEmbedEnabled  bool              `json:"fullEmbedEnabled"`
	EmbedAllowedRoles []string          `json:"embedAllowedRoles"`
	JWTSecrets        []json.RawMessage `json:"jwtSecrets"`
}

func getOrg(t *testing.T, app, key, id string) apiOrg {
	t.Helper()
	status, body := apiGet(t, app, "/api/public/organizations/"+id, key)
	require.Equal(t, http.StatusOK, status, body)
	var b struct{ Data apiOrg }
	require.NoError(t, json.Unmarshal([]byte(body), &b))
	return b.Data
}

func openAdminDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}
