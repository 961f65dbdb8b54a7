// Package migration reads a store's numbered schema files. Each store embeds
// its own SQL and applies it its own way (SQLite in a BEGIN IMMEDIATE
// transaction, PostgreSQL under an advisory lock); what they share is the
// naming rule and the order.
package migration

import (
	"crypto/rand"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Migration is one numbered schema file, NNNN_name.sql.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Load returns the migrations in dir of fsys in version order. A file not
// named NNNN_name.sql (NNNN > 0), or a version used twice, is an error.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var out []Migration
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 || !strings.HasSuffix(name, ".sql") {
			return nil, fmt.Errorf("migration %q: name must be NNNN_name.sql", name)
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("read migration %q: %w", name, err)
		}
		out = append(out, Migration{Version: v, Name: name, SQL: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("migration version %d used twice", out[i].Version)
		}
	}
	return out, nil
}

// epochAlphabet is the character set of an epoch: notify.Cursor accepts [a-z0-9].
const epochAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// NewEpoch returns a new database epoch: 8 random characters of [a-z0-9].
// A store creates it once, with its schema, and never changes it.
func NewEpoch() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("create epoch: %w", err)
	}
	for i := range b {
		// 256 % 36 != 0 makes the first 4 characters slightly likelier;
		// an epoch needs to differ between databases, not be uniform.
		b[i] = epochAlphabet[int(b[i])%len(epochAlphabet)]
	}
	return string(b[:]), nil
}
