package interop

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
)

// nodeSource is the directory of the Node signers in this repository. The
// tests never write into it: npm installs their packages into a cache
// directory outside the source tree, and the scripts run from a copy.
const nodeSource = "node"

// runDir is this process's directory for the Node signers (removed by
// TestMain): a copy of the scripts beside a node_modules link to the cache.
var runDir string

// prepareNode installs the Node signers' packages, once per lock file, under
// the user's cache directory, and lays out runDir. It returns runDir.
var prepareNode = sync.OnceValues(func() (string, error) {
	if _, err := exec.LookPath("node"); err != nil {
		return "", err
	}
	modules, err := installNodePackages()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "embedsso-interop-node-")
	if err != nil {
		return "", err
	}
	runDir = dir
	// Node resolves a script's imports from the node_modules beside it.
	if err := os.Symlink(modules, filepath.Join(dir, "node_modules")); err != nil {
		return "", err
	}
	scripts, err := filepath.Glob(filepath.Join(nodeSource, "*.mjs"))
	if err != nil {
		return "", err
	}
	for _, s := range append(scripts, filepath.Join(nodeSource, "package.json")) {
		if err := copyFile(s, filepath.Join(dir, filepath.Base(s))); err != nil {
			return "", err
		}
	}
	return dir, nil
})

// installNodePackages runs npm ci for package.json and package-lock.json in
// a directory named after their hash under the user's cache directory, unless
// an earlier run did, and returns its node_modules. A half-finished install
// is never seen: npm runs in a scratch directory that is renamed when done.
func installNodePackages() (string, error) {
	if _, err := exec.LookPath("npm"); err != nil {
		return "", err
	}
	h := sha256.New()
	for _, name := range []string{"package.json", "package-lock.json"} {
		b, err := os.ReadFile(filepath.Join(nodeSource, name))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", name, len(b))
		h.Write(b)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	parent := filepath.Join(cache, "embedsso-interop")
	final := filepath.Join(parent, "node-"+hex.EncodeToString(h.Sum(nil))[:16])
	modules := filepath.Join(final, "node_modules")
	if _, err := os.Stat(modules); err == nil {
		return modules, nil
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", err
	}
	scratch, err := os.MkdirTemp(parent, "install-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(scratch) // gone once renamed
	for _, name := range []string{"package.json", "package-lock.json"} {
		if err := copyFile(filepath.Join(nodeSource, name), filepath.Join(scratch, name)); err != nil {
			return "", err
		}
	}
	cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = scratch
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", errors.New("npm ci: " + err.Error() + "\n" + string(out))
	}
	if err := os.Rename(scratch, final); err != nil {
		// Another test process installed the same lock file first.
		if _, statErr := os.Stat(modules); statErr != nil {
			return "", err
		}
	}
	return modules, nil
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o644)
}

// removeRunDir removes this process's runDir, if it made one.
func removeRunDir() {
	if runDir != "" {
		_ = os.RemoveAll(runDir)
	}
}
