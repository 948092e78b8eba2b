package main

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"os"
	"strconv"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// cell is one character of the screen with its colours.
type cell struct {
	r            rune
	fg, bg       color.RGBA
	bold, faint  bool
	reverse      bool
	fgSet, bgSet bool
}

var (
	defaultFG = color.RGBA{0xc9, 0xd1, 0xd9, 0xff}
	defaultBG = color.RGBA{0x0d, 0x11, 0x17, 0xff}
	// xterm's 16 colours, as GitHub's dark theme draws them.
	ansi16 = []color.RGBA{
		{0x48, 0x4f, 0x58, 0xff}, {0xff, 0x7b, 0x72, 0xff}, {0x3f, 0xb9, 0x50, 0xff}, {0xd2, 0x99, 0x22, 0xff},
		{0x58, 0xa6, 0xff, 0xff}, {0xbc, 0x8c, 0xff, 0xff}, {0x39, 0xc5, 0xcf, 0xff}, {0xb1, 0xba, 0xc4, 0xff},
		{0x6e, 0x76, 0x81, 0xff}, {0xff, 0xa1, 0x98, 0xff}, {0x56, 0xd3, 0x64, 0xff}, {0xe3, 0xb3, 0x41, 0xff},
		{0x79, 0xc0, 0xff, 0xff}, {0xd2, 0xa8, 0xff, 0xff}, {0x56, 0xd4, 0xdd, 0xff}, {0xff, 0xff, 0xff, 0xff},
	}
)

func xterm256(n int) color.RGBA {
	switch {
	case n < 16:
		return ansi16[n]
	case n < 232:
		n -= 16
		lv := []uint8{0, 95, 135, 175, 215, 255}
		return color.RGBA{lv[n/36], lv[(n/6)%6], lv[n%6], 0xff}
	default:
		g := uint8(8 + (n-232)*10)
		return color.RGBA{g, g, g, 0xff}
	}
}

// parse turns tmux capture-pane -e output (text with SGR sequences) into a grid of w x h cells.
func parse(s string, w, h int) [][]cell {
	grid := make([][]cell, h)
	for i := range grid {
		grid[i] = make([]cell, w)
		for j := range grid[i] {
			grid[i][j] = cell{r: ' '}
		}
	}
	cur := cell{}
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for y, line := range lines {
		if y >= h {
			break
		}
		x := 0
		rs := []rune(line)
		for i := 0; i < len(rs); i++ {
			if rs[i] == 0x1b && i+1 < len(rs) && rs[i+1] == '[' {
				j := i + 2
				for j < len(rs) && (rs[j] < 0x40 || rs[j] > 0x7e) {
					j++
				}
				if j < len(rs) && rs[j] == 'm' {
					sgr(&cur, string(rs[i+2:j]))
				}
				i = j
				continue
			}
			if x < w {
				c := cur
				c.r = rs[i]
				grid[y][x] = c
			}
			x++
		}
	}
	return grid
}

func sgr(c *cell, params string) {
	if params == "" {
		params = "0"
	}
	ps := strings.Split(params, ";")
	for i := 0; i < len(ps); i++ {
		n, _ := strconv.Atoi(ps[i])
		switch {
		case n == 0:
			*c = cell{}
		case n == 1:
			c.bold = true
		case n == 2:
			c.faint = true
		case n == 22:
			c.bold, c.faint = false, false
		case n == 7:
			c.reverse = true
		case n == 27:
			c.reverse = false
		case n >= 30 && n <= 37:
			c.fg, c.fgSet = ansi16[n-30], true
		case n >= 90 && n <= 97:
			c.fg, c.fgSet = ansi16[n-90+8], true
		case n >= 40 && n <= 47:
			c.bg, c.bgSet = ansi16[n-40], true
		case n >= 100 && n <= 107:
			c.bg, c.bgSet = ansi16[n-100+8], true
		case n == 39:
			c.fgSet = false
		case n == 49:
			c.bgSet = false
		case n == 38 || n == 48:
			var col color.RGBA
			if i+1 < len(ps) && ps[i+1] == "5" && i+2 < len(ps) {
				k, _ := strconv.Atoi(ps[i+2])
				col = xterm256(k)
				i += 2
			} else if i+1 < len(ps) && ps[i+1] == "2" && i+4 < len(ps) {
				r, _ := strconv.Atoi(ps[i+2])
				g, _ := strconv.Atoi(ps[i+3])
				b, _ := strconv.Atoi(ps[i+4])
				col = color.RGBA{uint8(r), uint8(g), uint8(b), 0xff}
				i += 4
			} else {
				continue
			}
			if n == 38 {
				c.fg, c.fgSet = col, true
			} else {
				c.bg, c.bgSet = col, true
			}
		}
	}
}

// renderer draws cell grids with a monospace TrueType font.
type renderer struct {
	regular, bold  font.Face
	cw, ch, ascent int
}

func newRenderer(regularTTF, boldTTF string, size float64) (*renderer, error) {
	load := func(p string) (font.Face, error) {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		f, err := opentype.Parse(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		return opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
	}
	reg, err := load(regularTTF)
	if err != nil {
		return nil, err
	}
	bold, err := load(boldTTF)
	if err != nil {
		bold = reg
	}
	adv, _ := reg.GlyphAdvance('M')
	m := reg.Metrics()
	return &renderer{regular: reg, bold: bold, cw: adv.Ceil(), ch: (m.Ascent + m.Descent).Ceil() + 2, ascent: m.Ascent.Ceil() + 1}, nil
}

const pad = 12

func (r *renderer) render(grid [][]cell) *image.RGBA {
	h := len(grid)
	w := len(grid[0])
	img := image.NewRGBA(image.Rect(0, 0, w*r.cw+2*pad, h*r.ch+2*pad))
	draw.Draw(img, img.Bounds(), &image.Uniform{defaultBG}, image.Point{}, draw.Src)
	for y, row := range grid {
		for x, c := range row {
			fg, bg := defaultFG, defaultBG
			if c.fgSet {
				fg = c.fg
			}
			if c.bgSet {
				bg = c.bg
			}
			if c.reverse {
				fg, bg = bg, fg
			}
			if c.faint {
				fg = color.RGBA{uint8((int(fg.R) + int(bg.R)) / 2), uint8((int(fg.G) + int(bg.G)) / 2), uint8((int(fg.B) + int(bg.B)) / 2), 0xff}
			}
			px, py := pad+x*r.cw, pad+y*r.ch
			if bg != defaultBG {
				draw.Draw(img, image.Rect(px, py, px+r.cw, py+r.ch), &image.Uniform{bg}, image.Point{}, draw.Src)
			}
			if c.r == ' ' || c.r == 0 {
				continue
			}
			if drawBlock(img, c.r, px, py, r.cw, r.ch, fg) {
				continue
			}
			face := r.regular
			if c.bold {
				face = r.bold
			}
			d := font.Drawer{Dst: img, Src: &image.Uniform{fg}, Face: face, Dot: fixed.P(px, py+r.ascent)}
			d.DrawString(string(c.r))
		}
	}
	return img
}

// drawBlock draws box-drawing lines and blocks as rectangles that fill the cell, so borders join up.
func drawBlock(img *image.RGBA, r rune, x, y, w, h int, fg color.RGBA) bool {
	u := &image.Uniform{fg}
	mx, my := x+w/2, y+h/2
	hline := func(x0, x1 int) { draw.Draw(img, image.Rect(x0, my, x1, my+1), u, image.Point{}, draw.Over) }
	vline := func(y0, y1 int) { draw.Draw(img, image.Rect(mx, y0, mx+1, y1), u, image.Point{}, draw.Over) }
	dh := func(x0, x1 int) {
		draw.Draw(img, image.Rect(x0, my-1, x1, my), u, image.Point{}, draw.Over)
		draw.Draw(img, image.Rect(x0, my+1, x1, my+2), u, image.Point{}, draw.Over)
	}
	dv := func(y0, y1 int) {
		draw.Draw(img, image.Rect(mx-1, y0, mx, y1), u, image.Point{}, draw.Over)
		draw.Draw(img, image.Rect(mx+1, y0, mx+2, y1), u, image.Point{}, draw.Over)
	}
	switch r {
	case '─', '━':
		hline(x, x+w)
	case '│', '┃':
		vline(y, y+h)
	case '┌', '╭', '┏':
		hline(mx, x+w)
		vline(my, y+h)
	case '┐', '╮', '┓':
		hline(x, mx+1)
		vline(my, y+h)
	case '└', '╰', '┗':
		hline(mx, x+w)
		vline(y, my+1)
	case '┘', '╯', '┛':
		hline(x, mx+1)
		vline(y, my+1)
	case '├':
		vline(y, y+h)
		hline(mx, x+w)
	case '═':
		dh(x, x+w)
	case '║':
		dv(y, y+h)
	case '╔':
		dh(mx, x+w)
		dv(my, y+h)
	case '╗':
		dh(x, mx+2)
		dv(my, y+h)
	case '╚':
		dh(mx, x+w)
		dv(y, my+2)
	case '╝':
		dh(x, mx+2)
		dv(y, my+2)
	case '█':
		draw.Draw(img, image.Rect(x, y, x+w, y+h), u, image.Point{}, draw.Over)
	case '░':
		for yy := y; yy < y+h; yy++ {
			for xx := x + (yy % 2); xx < x+w; xx += 2 {
				img.Set(xx, yy, color.RGBA{fg.R, fg.G, fg.B, 0x90})
			}
		}
	default:
		return false
	}
	return true
}
