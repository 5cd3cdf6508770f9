// Set overrides one setting of a loaded scenario, for sweeps: it edits the
// scenario's YAML tree and parses it again, so every rule Parse checks holds.
package scenarios

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Set overrides one setting, named by a dotted path of file keys
// ("workload.clients", "network.latency.median", "expect.failover-within",
// "x-bugs.grant-two-votes-per-epoch"; "faults[1].at" indexes a list, for
// sweeps over partition length), by a top-level key ("duration",
// "seed"), by a cluster key ("masters", "replicas-per-master") or by a
// redis.conf name or alias ("cluster-node-timeout"). value is YAML as it
// would appear in the file ("1000", "30s", "yes",
// "{dist: constant, value: 1ms}"). The result is validated again; on error s
// is unchanged. File and the faults' Lines are kept.
func (s *Scenario) Set(key, value string) error {
	path, err := setPath(key)
	if err != nil {
		return err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(value), &doc); err != nil {
		return fmt.Errorf("set %s: bad value %q: %v", key, value, err)
	}
	val := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}
	if len(doc.Content) == 1 {
		val = doc.Content[0]
	}
	root := marshalNode(s)
	if err := setNode(root, path, val); err != nil {
		return fmt.Errorf("set %s: %v", key, err)
	}
	data, err := yaml.Marshal(root)
	if err != nil {
		return fmt.Errorf("set %s: %v", key, err)
	}
	next, err := Parse(s.File, data)
	if err != nil {
		return setError(key, value, err)
	}
	for i := range next.Faults {
		next.Faults[i].Line = s.Faults[i].Line
	}
	*s = *next
	return nil
}

// setPath turns a Set key into the path of file keys.
func setPath(key string) ([]string, error) {
	if strings.ContainsAny(key, ".[") {
		var path []string
		for _, part := range strings.Split(key, ".") {
			name, index, found := strings.Cut(part, "[")
			path = append(path, name)
			if found {
				path = append(path, "["+index)
			}
		}
		if len(path) == 3 && path[0] == "cluster" && path[1] == "config" {
			if cs, ok := confByName(path[2]); ok {
				path[2] = cs.name
			}
		}
		return path, nil
	}
	switch key {
	case "name", "description", "duration", "seed":
		return []string{key}, nil
	case "masters", "replicas-per-master", "rules":
		return []string{"cluster", key}, nil
	}
	if cs, ok := confByName(key); ok {
		return []string{"cluster", "config", cs.name}, nil
	}
	return nil, fmt.Errorf("set %s: unknown setting (use a dotted path like workload.clients, or a redis.conf name)", key)
}

// setNode sets path in the mapping n to v, creating mappings on the way.
func setNode(n *yaml.Node, path []string, v *yaml.Node) error {
	for i, key := range path {
		if idx, ok := strings.CutPrefix(key, "["); ok {
			item, err := seqItem(n, strings.Join(path[:i], "."), idx)
			if err != nil {
				return err
			}
			if i == len(path)-1 {
				n.Content[item] = v
				return nil
			}
			n = n.Content[item]
			continue
		}
		if n.Kind != yaml.MappingNode {
			return fmt.Errorf("%s is not a mapping", strings.Join(path[:i], "."))
		}
		var next *yaml.Node
		for j := 0; j+1 < len(n.Content); j += 2 {
			if n.Content[j].Value == key {
				next = n.Content[j+1]
				if i == len(path)-1 {
					n.Content[j+1] = v
					return nil
				}
			}
		}
		if next == nil {
			if i == len(path)-1 {
				add(n, key, v)
				return nil
			}
			next = mapping(false)
			add(n, key, next)
		}
		n = next
	}
	return nil
}

// seqItem returns the position in the sequence n of the index written
// "2]" after the '[' of "faults[2]".
func seqItem(n *yaml.Node, at, idx string) (int, error) {
	i, err := strconv.Atoi(strings.TrimSuffix(idx, "]"))
	if err != nil || !strings.HasSuffix(idx, "]") {
		return 0, fmt.Errorf("%s[%s: bad list index", at, idx)
	}
	if n.Kind != yaml.SequenceNode {
		return 0, fmt.Errorf("%s is not a list", at)
	}
	if i < 0 || i >= len(n.Content) {
		return 0, fmt.Errorf("%s[%d]: no such item (the list has %d)", at, i, len(n.Content))
	}
	return i, nil
}

// setError rewords Parse's problems for an override: the lines are those
// of the regenerated file, so only the field and message are kept.
func setError(key, value string, err error) error {
	e, ok := err.(*Error)
	if !ok {
		return fmt.Errorf("set %s=%s: %v", key, value, err)
	}
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = fmt.Sprintf("set %s=%s: %s", key, value, p.Msg)
		if p.Field != "" {
			msgs[i] = fmt.Sprintf("set %s=%s: %s: %s", key, value, p.Field, p.Msg)
		}
	}
	return fmt.Errorf("%s", strings.Join(msgs, "\n"))
}
