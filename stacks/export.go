package stacks

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Export writes the tree of commit c into dst, which must not exist or be
// empty: the throwaway workspace Terraform runs in, holding exactly the
// commit and nothing of any working copy. Submodules are left out;
// symlinks are recreated as they are in git.
func (r *Repo) Export(ctx context.Context, c *object.Commit, dst string) error {
	tree, err := c.Tree()
	if err != nil {
		return fmt.Errorf("read tree of %s: %w", short(c.Hash), err)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	w := tree.Files()
	defer w.Close()
	return w.ForEach(func(f *object.File) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if strings.HasPrefix(f.Name, "../") || filepath.IsAbs(f.Name) {
			return fmt.Errorf("export %s: refusing path %q outside the workspace", short(c.Hash), f.Name)
		}
		target := filepath.Join(dst, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		rd, err := f.Reader()
		if err != nil {
			return fmt.Errorf("read %s at %s: %w", f.Name, short(c.Hash), err)
		}
		defer rd.Close()
		if f.Mode == filemode.Symlink {
			link, err := io.ReadAll(rd)
			if err != nil {
				return err
			}
			return os.Symlink(string(link), target)
		}
		perm := os.FileMode(0o644)
		if f.Mode == filemode.Executable {
			perm = 0o755
		}
		out, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, perm)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, rd); err != nil {
			out.Close()
			return fmt.Errorf("write %s: %w", target, err)
		}
		return out.Close()
	})
}
