// Where scenarios come from: files on disk, or the library embedded in the
// binary (scenarios/library/*.yaml), chosen by Resolve.

package scenarios

import (
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
)

//go:embed library/*.yaml
var library embed.FS

// ErrNotFound is wrapped by the errors of Builtin and Resolve for a name that
// is neither a built-in nor a file.
var ErrNotFound = errors.New("no such scenario")

// MaxFileBytes caps a scenario file (4 MiB, some 100,000 fault steps): the
// YAML parser needs tens of times a file's size in memory, so a larger file
// (or /dev/zero) is refused before it is parsed.
const MaxFileBytes = 4 << 20

// Load reads and parses the scenario file at path; messages name the file as
// path. A file that cannot be read gives the *os.PathError; one larger than
// MaxFileBytes an error saying so, after reading no more than that.
func Load(path string) (*Scenario, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("%s: larger than %d MiB, the limit for a scenario file", path, MaxFileBytes>>20)
	}
	return Parse(path, data)
}

// Builtin returns the built-in scenario called name, parsed from
// library/<name>.yaml (its File).
func Builtin(name string) (*Scenario, error) {
	if strings.ContainsAny(name, `/\`) || name == "" {
		return nil, notFound(name)
	}
	file := "library/" + name + ".yaml"
	data, err := library.ReadFile(file)
	if err != nil {
		return nil, notFound(name)
	}
	return Parse(file, data)
}

// BuiltinYAML returns the text of the built-in scenario called name, as
// library/<name>.yaml holds it (comments included), to copy and edit.
func BuiltinYAML(name string) ([]byte, error) {
	if strings.ContainsAny(name, `/\`) || name == "" {
		return nil, notFound(name)
	}
	data, err := library.ReadFile("library/" + name + ".yaml")
	if err != nil {
		return nil, notFound(name)
	}
	return data, nil
}

// notFound says name is unknown and lists the built-ins.
func notFound(name string) error {
	return fmt.Errorf("%w: %q is not a built-in (have %s) nor a .yaml file",
		ErrNotFound, name, strings.Join(BuiltinNames(), " "))
}

// BuiltinNames lists the built-in scenarios, sorted.
func BuiltinNames() []string {
	files, _ := fs.Glob(library, "library/*.yaml")
	names := make([]string, 0, len(files))
	for _, f := range files {
		names = append(names, strings.TrimSuffix(path.Base(f), ".yaml"))
	}
	sort.Strings(names)
	return names
}

// SmallBuiltinNames lists the built-ins of at most TestNodes nodes, sorted:
// the ones the test suite runs.
func SmallBuiltinNames() []string {
	var names []string
	for _, n := range BuiltinNames() {
		if s, err := Builtin(n); err == nil && s.Cluster.Nodes() <= TestNodes {
			names = append(names, n)
		}
	}
	return names
}

// Resolve turns a command-line argument into a scenario: a path (it ends in
// .yaml or .yml, or holds a path separator) is loaded; otherwise a built-in
// of that name wins over a file of that name in the working directory.
func Resolve(arg string) (*Scenario, error) {
	if strings.HasSuffix(arg, ".yaml") || strings.HasSuffix(arg, ".yml") || strings.ContainsAny(arg, `/\`) {
		return Load(arg)
	}
	s, err := Builtin(arg)
	if errors.Is(err, ErrNotFound) {
		if st, statErr := os.Stat(arg); statErr == nil && st.Mode().IsRegular() {
			return Load(arg)
		}
	}
	return s, err
}
