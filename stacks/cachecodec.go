package stacks

import (
	"encoding/binary"
	"unsafe"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
)

// The cache file is a flat binary encoding (a gob of the same map takes
// several times longer to decode, and a warm run is mostly decoding):
//
//	version, trees, files, sources (the totals), then per tree:
//	  hash config-blob terraform-directories
//	  files:    name blob flags [sources err-line err]   (calls when parsed)
//	  links:    name target
//	  gitlinks: name hash
//	  dirs:     name hash
//
//	count, then per diff: from-tree to-tree seq
//	  paths: path sides base-hash base-mode head-hash head-mode
//
// Lists start with their length; numbers are uvarints, hashes 20 raw bytes,
// strings a length and their bytes.
const (
	flagLink   = 1
	flagParsed = 2
)

func encodeCache(trees map[plumbing.Hash]*treeSum, diffs map[[2]plumbing.Hash]*cachedDiff) []byte {
	var e encoder
	files, sources := 0, 0
	for _, s := range trees {
		files += len(s.Files)
		for _, f := range s.Files {
			sources += len(f.Calls.Sources)
		}
	}
	e.uint(cacheVersion)
	e.uint(uint64(len(trees)))
	e.uint(uint64(files))
	e.uint(uint64(sources))
	for h, s := range trees {
		e.hash(h)
		e.hash(s.Config)
		e.uint(uint64(s.TFDirs))
		e.uint(uint64(len(s.Files)))
		for _, f := range s.Files {
			e.str(f.Name)
			e.hash(f.Blob)
			flags := uint64(0)
			if f.Link {
				flags |= flagLink
			}
			if f.Parsed {
				flags |= flagParsed
			}
			e.uint(flags)
			if f.Parsed {
				e.uint(uint64(len(f.Calls.Sources)))
				for _, src := range f.Calls.Sources {
					e.str(src)
				}
				e.uint(uint64(f.Calls.ErrLine))
				e.str(f.Calls.Err)
			}
		}
		e.uint(uint64(len(s.Links)))
		for _, l := range s.Links {
			e.str(l.Name)
			e.str(l.Target)
		}
		e.refs(s.Gitlinks)
		e.refs(s.Dirs)
	}
	e.uint(uint64(len(diffs)))
	for k, d := range diffs {
		e.hash(k[0])
		e.hash(k[1])
		e.uint(d.seq)
		e.uint(uint64(len(d.paths)))
		for _, c := range d.paths {
			e.str(c.Path)
			sides := uint64(0)
			if c.AtBase {
				sides |= 1
			}
			if c.AtHead {
				sides |= 2
			}
			e.uint(sides)
			e.hash(c.BaseHash)
			e.uint(uint64(c.BaseMode))
			e.hash(c.HeadHash)
			e.uint(uint64(c.HeadMode))
		}
	}
	return e.buf
}

// decodeCache reads what encodeCache wrote. Entries are allocated in a few
// arrays sized from the totals, and strings share the memory of data (which
// the caller must not change): a warm run decodes tens of thousands of
// entries, and allocating each on its own would cost more than the
// decoding.
func decodeCache(data []byte) (map[plumbing.Hash]*treeSum, map[[2]plumbing.Hash]*cachedDiff, bool) {
	if len(data) == 0 {
		return nil, nil, false
	}
	d := decoder{buf: data, text: unsafe.String(&data[0], len(data)), ok: true}
	if d.uint() != cacheVersion {
		return nil, nil, false
	}
	n, nf, ns := d.count(), d.count(), d.count()
	trees := make(map[plumbing.Hash]*treeSum, n)
	sums := make([]treeSum, n)
	files := make([]sumFile, 0, nf)
	sources := make([]string, 0, ns)
	for i := 0; i < n && d.ok; i++ {
		h := d.hash()
		s := &sums[i]
		s.Config = d.hash()
		s.TFDirs = int(d.uint())
		if k := d.count(); k > 0 {
			start := len(files)
			for j := 0; j < k && d.ok; j++ {
				f := sumFile{Name: d.str(), Blob: d.hash()}
				flags := d.uint()
				f.Link, f.Parsed = flags&flagLink != 0, flags&flagParsed != 0
				if f.Parsed {
					if m := d.count(); m > 0 {
						from := len(sources)
						for k := 0; k < m; k++ {
							sources = append(sources, d.str())
						}
						f.Calls.Sources = sources[from:len(sources):len(sources)]
					}
					f.Calls.ErrLine = int(d.uint())
					f.Calls.Err = d.str()
				}
				files = append(files, f)
			}
			s.Files = files[start:len(files):len(files)]
		}
		if k := d.count(); k > 0 {
			s.Links = make([]sumLink, k)
			for j := range s.Links {
				s.Links[j] = sumLink{Name: d.str(), Target: d.str()}
			}
		}
		s.Gitlinks = d.refs()
		s.Dirs = d.refs()
		trees[h] = s
	}
	n = d.count()
	diffs := make(map[[2]plumbing.Hash]*cachedDiff, n)
	for i := 0; i < n && d.ok; i++ {
		k := [2]plumbing.Hash{d.hash(), d.hash()}
		cd := &cachedDiff{seq: d.uint()}
		cd.paths = make([]changedPath, d.count())
		for j := range cd.paths {
			c := &cd.paths[j]
			c.Path = d.str()
			sides := d.uint()
			c.AtBase, c.AtHead = sides&1 != 0, sides&2 != 0
			c.BaseHash, c.BaseMode = d.hash(), filemode.FileMode(d.uint())
			c.HeadHash, c.HeadMode = d.hash(), filemode.FileMode(d.uint())
		}
		diffs[k] = cd
	}
	if !d.ok || d.off != len(d.buf) {
		return nil, nil, false
	}
	return trees, diffs, true
}

type encoder struct{ buf []byte }

func (e *encoder) uint(v uint64)        { e.buf = binary.AppendUvarint(e.buf, v) }
func (e *encoder) hash(h plumbing.Hash) { e.buf = append(e.buf, h[:]...) }
func (e *encoder) str(s string) {
	e.uint(uint64(len(s)))
	e.buf = append(e.buf, s...)
}
func (e *encoder) refs(rs []sumRef) {
	e.uint(uint64(len(rs)))
	for _, r := range rs {
		e.str(r.Name)
		e.hash(r.Hash)
	}
}

// decoder reads what encoder wrote; past the first malformed byte, ok is
// false and every read returns a zero value. text is buf as a string, for
// strings that share its memory.
type decoder struct {
	buf  []byte
	text string
	off  int
	ok   bool
}

func (d *decoder) uint() uint64 {
	if !d.ok {
		return 0
	}
	v, n := binary.Uvarint(d.buf[d.off:])
	if n <= 0 {
		d.ok = false
		return 0
	}
	d.off += n
	return v
}

// count reads a number of items, each taking at least one byte.
func (d *decoder) count() int {
	v := d.uint()
	if v > uint64(len(d.buf)-d.off) {
		d.ok = false
		return 0
	}
	return int(v)
}

func (d *decoder) hash() plumbing.Hash {
	var h plumbing.Hash
	if !d.ok || len(d.buf)-d.off < len(h) {
		d.ok = false
		return h
	}
	copy(h[:], d.buf[d.off:])
	d.off += len(h)
	return h
}

func (d *decoder) str() string {
	n := d.count()
	if !d.ok {
		return ""
	}
	s := d.text[d.off : d.off+n]
	d.off += n
	return s
}

func (d *decoder) refs() []sumRef {
	k := d.count()
	if k == 0 {
		return nil
	}
	rs := make([]sumRef, k)
	for i := range rs {
		rs[i] = sumRef{Name: d.str(), Hash: d.hash()}
	}
	return rs
}
