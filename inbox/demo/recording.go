package demo

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/png"
	"math"
)

// recordingWAV is a short sound kept as a demo call's recording, so that
// the player in the timeline plays something: the Russian ring-back tone
// (425 Hz), then a few notes that differ by variant. 8 kHz, 8-bit mono
// PCM: about 4 seconds in 32 KB.
func recordingWAV(variant int) []byte {
	const rate = 8000
	var pcm []byte
	tone := func(freq float64, secs float64) {
		n := int(secs * rate)
		for i := 0; i < n; i++ {
			v := 0.0
			if freq > 0 {
				fade := math.Min(1, math.Min(float64(i), float64(n-i))/200) // no clicks
				v = 0.35 * fade * math.Sin(2*math.Pi*freq*float64(i)/rate)
			}
			pcm = append(pcm, byte(128+127*v))
		}
	}
	tone(425, 1)
	tone(0, 0.6)
	notes := []float64{523, 659, 784, 659, 587, 698, 880, 698}
	for i := 0; i < 4; i++ {
		tone(notes[(variant+i)%len(notes)], 0.45)
		tone(0, 0.1)
	}
	var b bytes.Buffer
	w := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	w(uint32(36 + len(pcm)))
	b.WriteString("WAVEfmt ")
	w(uint32(16))
	w(uint16(1)) // PCM
	w(uint16(1)) // mono
	w(uint32(rate))
	w(uint32(rate)) // bytes per second
	w(uint16(1))    // block align
	w(uint16(8))    // bits per sample
	b.WriteString("data")
	w(uint32(len(pcm)))
	b.Write(pcm)
	return b.Bytes()
}

// photoPNG is a small picture a demo client sends on WhatsApp ("here is my
// kitchen"): a wall, a floor and a row of cabinets, in a variant's colours.
func photoPNG(variant int) []byte {
	const w, h = 240, 160
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	palettes := [][3]color.RGBA{
		{{236, 229, 214, 255}, {150, 111, 80, 255}, {70, 110, 90, 255}},
		{{225, 232, 240, 255}, {120, 120, 125, 255}, {200, 90, 60, 255}},
		{{245, 240, 225, 255}, {170, 140, 100, 255}, {60, 70, 110, 255}},
	}
	p := palettes[variant%len(palettes)]
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := p[0] // the wall
			switch {
			case y > 120:
				c = p[1] // the floor
			case y > 70 && x > 20 && x < 220 && (x-20)%50 != 0:
				c = p[2] // the cabinets, with gaps between the doors
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}
