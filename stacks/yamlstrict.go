package stacks

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// decodeStrict fills v (a pointer to a struct) from a YAML node, refusing
// unknown keys, duplicate keys and values of the wrong type. Errors name the
// file, the line and the dotted key, e.g.
//
//	strata.yaml:7: stacks[1].depends_on: want a list of strings, got a string
//
// yaml.v3's own KnownFields mode reports the Go type instead of the key and
// stops at the first problem it meets in a less useful form, hence this
// small decoder. Struct fields are matched by their `yaml` tag; a field
// named Line (tag "-") receives the line of the node it was decoded from.
func decodeStrict(file string, n *yaml.Node, v any) error {
	d := strictDecoder{file: file}
	return d.decode(n, reflect.ValueOf(v).Elem(), "")
}

type strictDecoder struct{ file string }

func (d strictDecoder) errf(n *yaml.Node, key, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if key != "" {
		msg = key + ": " + msg
	}
	return fmt.Errorf("%s:%d: %s", d.file, n.Line, msg)
}

func (d strictDecoder) decode(n *yaml.Node, v reflect.Value, key string) error {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil // "key:" with no value keeps the default
	}
	switch v.Kind() {
	case reflect.Struct:
		return d.decodeStruct(n, v, key)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return d.errf(n, key, "want a list, got %s", describe(n))
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			if err := d.decode(item, s.Index(i), fmt.Sprintf("%s[%d]", key, i)); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	case reflect.Map:
		return d.decodeMap(n, v, key)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			return d.errf(n, key, "want a string, got %s", describe(n))
		}
		v.SetString(n.Value)
		return nil
	case reflect.Int:
		var i int
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(&i) != nil {
			return d.errf(n, key, "want a whole number, got %s", describe(n))
		}
		v.SetInt(int64(i))
		return nil
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&b) != nil {
			return d.errf(n, key, "want true or false, got %s", describe(n))
		}
		v.SetBool(b)
		return nil
	case reflect.Interface:
		if n.Kind != yaml.ScalarNode {
			return d.errf(n, key, "want a string, number or boolean, got %s", describe(n))
		}
		var x any
		if err := n.Decode(&x); err != nil {
			return d.errf(n, key, "%v", err)
		}
		v.Set(reflect.ValueOf(x))
		return nil
	}
	return d.errf(n, key, "cannot decode into %s", v.Type())
}

func (d strictDecoder) decodeStruct(n *yaml.Node, v reflect.Value, key string) error {
	if n.Kind != yaml.MappingNode {
		return d.errf(n, key, "want a mapping of keys to values, got %s", describe(n))
	}
	fields := map[string]int{}
	var names []string
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
		if tag == "" || tag == "-" {
			continue
		}
		fields[tag] = i
		names = append(names, tag)
	}
	if f := v.FieldByName("Line"); f.IsValid() && f.Kind() == reflect.Int {
		f.SetInt(int64(n.Line))
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		sub := joinKey(key, k.Value)
		idx, ok := fields[k.Value]
		if !ok {
			sort.Strings(names)
			return d.errf(k, "", "unknown key %q%s (known keys: %s)", sub, inKey(key), strings.Join(names, ", "))
		}
		if seen[k.Value] {
			return d.errf(k, "", "key %q appears twice", sub)
		}
		seen[k.Value] = true
		if err := d.decode(val, v.Field(idx), sub); err != nil {
			return err
		}
	}
	return nil
}

func (d strictDecoder) decodeMap(n *yaml.Node, v reflect.Value, key string) error {
	if n.Kind != yaml.MappingNode {
		return d.errf(n, key, "want a mapping of keys to values, got %s", describe(n))
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		sub := joinKey(key, k.Value)
		if v.MapIndex(reflect.ValueOf(k.Value)).IsValid() {
			return d.errf(k, "", "key %q appears twice", sub)
		}
		elem := reflect.New(v.Type().Elem()).Elem()
		if err := d.decode(val, elem, sub); err != nil {
			return err
		}
		v.SetMapIndex(reflect.ValueOf(k.Value), elem)
	}
	return nil
}

func joinKey(parent, k string) string {
	if parent == "" {
		return k
	}
	return parent + "." + k
}

func inKey(key string) string {
	if key == "" {
		return ""
	}
	return " in " + key
}

// describe names a node's kind for error messages: `a list`, `the string "x"`.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!int", "!!float":
			return "the number " + n.Value
		case "!!bool":
			return "the boolean " + n.Value
		}
		return fmt.Sprintf("the string %q", n.Value)
	}
	return "an unsupported value"
}
