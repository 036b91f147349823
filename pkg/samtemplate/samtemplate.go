// Package samtemplate reads the AWS SAM template, so the local server, the build and invoke
// tools and the tests all take functions, routes and the table from the one template.yaml
// that is deployed, instead of repeating them in Go.
//
// It parses YAML (and so JSON) templates, turns CloudFormation short-form tags such as
// !Ref and !GetAtt into their long forms, and leaves every intrinsic unresolved: a value
// like {"Ref": "Table"} is returned as such, because only CloudFormation knows what it is.
package samtemplate

import (
	"fmt"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// Resource types this package understands.
const (
	TypeFunction = "AWS::Serverless::Function"
	TypeTable    = "AWS::DynamoDB::Table"
)

// Template is a parsed SAM template with short-form tags expanded.
type Template struct {
	Parameters map[string]map[string]any `yaml:"Parameters"`
	Conditions map[string]any            `yaml:"Conditions"`
	Globals    map[string]any            `yaml:"Globals"` // raw "Globals" section
	Resources  map[string]Resource       `yaml:"Resources"`
	Outputs    map[string]any            `yaml:"Outputs"`
}

// ParameterDefaults returns each parameter's Default, as the string CloudFormation
// passes it; a parameter without one is left out.
func (t *Template) ParameterDefaults() map[string]string {
	out := map[string]string{}
	for name, p := range t.Parameters {
		if d, ok := p["Default"]; ok {
			out[name] = fmt.Sprint(d)
		}
	}
	return out
}

// Resource is one entry of the Resources section.
type Resource struct {
	Type       string         `yaml:"Type"`
	Properties map[string]any `yaml:"Properties"`
	Metadata   map[string]any `yaml:"Metadata"`
	// IgnoreGlobals is the SAM resource attribute: "*" or a list of property names that
	// this resource does not take from Globals.
	IgnoreGlobals any `yaml:"IgnoreGlobals"`
}

// Load reads and parses the template at path.
func Load(path string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	t, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return t, nil
}

// Parse parses a template from YAML or JSON.
func Parse(data []byte) (*Template, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("decode yaml: %w", err)
	}
	if doc.Kind == 0 {
		return nil, fmt.Errorf("empty template")
	}
	if err := expandTags(&doc); err != nil {
		return nil, err
	}
	var t Template
	if err := doc.Decode(&t); err != nil {
		return nil, fmt.Errorf("decode template: %w", err)
	}
	if len(t.Resources) == 0 {
		// CloudFormation rejects a template without resources; so do we, since it is
		// almost certainly the wrong file.
		return nil, fmt.Errorf("template has no Resources")
	}
	for id, r := range t.Resources {
		if r.Type == "" {
			return nil, fmt.Errorf("resource %s has no Type", id)
		}
	}
	return &t, nil
}

// expandTags rewrites every CloudFormation short-form tag under n into the long form in
// place, so that decoding yields {"Ref": "X"} for !Ref X. It walks children first, so a
// nested short form (!Select [0, !GetAZs ""]) is already long when its parent is rewritten.
func expandTags(n *yaml.Node) error {
	for _, c := range n.Content {
		if err := expandTags(c); err != nil {
			return err
		}
	}
	if !strings.HasPrefix(n.Tag, "!") || strings.HasPrefix(n.Tag, "!!") {
		return nil
	}
	name := n.Tag[1:]
	if !isIdentifier(name) {
		return fmt.Errorf("line %d: unsupported tag %s", n.Line, n.Tag)
	}

	value := *n
	value.Anchor = "" // an anchor names the whole expression, which stays on n
	value.Style &^= yaml.TaggedStyle
	switch value.Kind {
	case yaml.ScalarNode:
		// A tagged scalar is a string to CloudFormation even when it looks like a number
		// or a boolean.
		value.Tag = "!!str"
	case yaml.SequenceNode:
		value.Tag = "!!seq"
	case yaml.MappingNode:
		value.Tag = "!!map"
	default:
		return fmt.Errorf("line %d: tag %s on unsupported node", n.Line, n.Tag)
	}

	key := "Fn::" + name
	switch name {
	case "Ref", "Condition":
		key = name
	case "GetAtt":
		if value.Kind == yaml.ScalarNode {
			// !GetAtt Resource.Attribute; the attribute itself may contain dots
			// (!GetAtt Db.Endpoint.Address), the logical ID never does.
			resource, attribute, ok := strings.Cut(value.Value, ".")
			if !ok || resource == "" || attribute == "" {
				return fmt.Errorf("line %d: !GetAtt %q: want Resource.Attribute", n.Line, value.Value)
			}
			value = yaml.Node{
				Kind: yaml.SequenceNode,
				Tag:  "!!seq",
				Line: value.Line, Column: value.Column,
				Content: []*yaml.Node{strNode(resource), strNode(attribute)},
			}
		}
	}

	*n = yaml.Node{
		Kind:    yaml.MappingNode,
		Tag:     "!!map",
		Anchor:  n.Anchor,
		Line:    n.Line,
		Column:  n.Column,
		Content: []*yaml.Node{strNode(key), &value},
	}
	return nil
}

func strNode(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			return false
		}
	}
	return true
}

// IsIntrinsic reports whether v is a CloudFormation intrinsic function call such as
// {"Ref": "X"} or {"Fn::GetAtt": [...]}: a map with one key that names the function.
func IsIntrinsic(v any) bool {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return false
	}
	for k := range m {
		return k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::")
	}
	return false
}
