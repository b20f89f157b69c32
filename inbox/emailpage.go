package inbox

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/net/html"

	"github.com/switchboard/switchboard/crm"
)

// maxInlineImages bounds the bytes of a message's inline pictures put into
// its page (as data: URLs); a picture past it shows as its alt text.
const maxInlineImages = 10 << 20

// EmailPage is a touch's sanitized email HTML as the timeline's frame shows
// it: each inline picture (img src="cid:…") put in from the stored
// attachment it names, as a data: URL, so the frame, which has no origin
// of its own, needs no cookie to load it; and, unless remote is true, no
// image from outside (tracking pixels, newsletter banners): their src is
// removed, so nothing is requested before the user asks. Any other image
// source is removed as well. Not found for a touch u may not see or one
// without HTML.
func (a *App) EmailPage(ctx context.Context, u crm.User, touchID int64, remote bool) (string, error) {
	tx := a.db.WithContext(ctx)
	t, err := crm.VisibleTouch(tx, u, touchID)
	if err != nil {
		return "", err
	}
	if t.HTML == "" {
		return "", crm.NotFound("email HTML of touch", touchID)
	}
	files, err := crm.TouchAttachments(tx, touchID)
	if err != nil {
		return "", err
	}
	byCID := map[string]crm.Attachment{}
	for _, f := range files {
		if k := contentIDKey(f.ContentID); k != "" && f.SHA256 != "" {
			if _, dup := byCID[k]; !dup {
				byCID[k] = f
			}
		}
	}
	budget := maxInlineImages
	seen := map[string]string{}
	inline := func(src string) string {
		f, ok := byCID[contentIDKey(cidOf(src))]
		if !ok {
			return ""
		}
		if v, ok := seen[f.SHA256]; ok {
			return v
		}
		v := a.dataURL(ctx, f, &budget)
		seen[f.SHA256] = v
		return v
	}
	return rewriteImages(t.HTML, remote, inline), nil
}

// dataURL is a stored picture as a data: URL, or "" when its bytes are not
// a raster image (never SVG: it can carry script) or do not fit in budget.
func (a *App) dataURL(ctx context.Context, f crm.Attachment, budget *int) string {
	if f.Size > int64(*budget) {
		return ""
	}
	rc, err := a.opts.Blobs.Open(ctx, f.SHA256)
	if err != nil {
		a.log.Warn("inbox: inline image", "attachment", f.ID, "err", err)
		return ""
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, int64(*budget)+1))
	if err != nil || len(b) > *budget {
		return ""
	}
	if ct := PictureType(b); ct != "" {
		*budget -= len(b)
		return "data:" + ct + ";base64," + base64.StdEncoding.EncodeToString(b)
	}
	return ""
}

// PictureType is the type of a raster picture from its first bytes (never
// from what a sender declared; never SVG, which can carry script), or "".
func PictureType(head []byte) string {
	switch ct := http.DetectContentType(head); ct {
	case "image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp":
		return ct
	}
	return ""
}

// cidOf is the Content-ID a cid: URL names (RFC 2392: percent-encoded,
// without the angle brackets, though some senders keep them).
func cidOf(src string) string {
	s := strings.TrimSpace(src)
	if len(s) < 4 || !strings.EqualFold(s[:4], "cid:") {
		return ""
	}
	s = s[4:]
	if u, err := url.PathUnescape(s); err == nil {
		s = u
	}
	return s
}

// contentIDKey is a Content-ID as compared: without angle brackets and
// spaces, in lower case (mail programs match it loosely).
func contentIDKey(id string) string {
	return strings.ToLower(strings.Trim(strings.TrimSpace(id), "<> \t"))
}

// isRemote says whether an image source is loaded from another host.
func isRemote(src string) bool {
	s := strings.ToLower(strings.TrimSpace(src))
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "//")
}

// rewriteImages returns doc with each img's src replaced: a cid: source by
// inline(src) (removed when that is ""), a remote one kept only when
// remote is true, anything else removed; srcset is always removed. Every
// other token is copied as it was.
func rewriteImages(doc string, remote bool, inline func(src string) string) string {
	z := html.NewTokenizer(strings.NewReader(doc))
	var out bytes.Buffer
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return out.String()
		}
		raw := z.Raw()
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			out.Write(raw)
			continue
		}
		tok := z.Token()
		if tok.Data != "img" {
			out.Write(raw)
			continue
		}
		attrs := tok.Attr[:0]
		for _, at := range tok.Attr {
			switch at.Key {
			case "srcset":
				continue
			case "src":
				switch {
				case cidOf(at.Val) != "":
					at.Val = inline(at.Val)
				case isRemote(at.Val) && remote:
				default:
					at.Val = ""
				}
				if at.Val == "" {
					continue
				}
			}
			attrs = append(attrs, at)
		}
		tok.Attr = attrs
		out.WriteString(tok.String())
	}
}
