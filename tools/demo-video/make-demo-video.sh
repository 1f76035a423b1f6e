#!/usr/bin/env bash
# Renders assets/demo/demo.mp4: 24 s of a synthetic "street scene" full of text that moves and
# changes, for exercising text detection on live video without shipping real footage.
# Only ffmpeg is needed (libx264, drawtext with freetype) plus the DejaVu fonts.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUTPUT="${1:-$REPO_ROOT/assets/demo/demo.mp4}"
FONT="${DEMO_FONT:-/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf}"
DURATION=24
SIZE=640x480
RATE=30

command -v ffmpeg >/dev/null || { echo "ffmpeg not found: apt-get install ffmpeg" >&2; exit 1; }
[[ -r "$FONT" ]] || { echo "font $FONT not found: apt-get install fonts-dejavu-core (or set DEMO_FONT)" >&2; exit 1; }

# drawtext filter for TEXT at size SIZE and colour COLOUR; the rest (position, enable, box...) is appended
# verbatim. TEXT must not contain ' (it is single-quoted for the filter parser).
text() {
  local text="$1" size="$2" colour="$3" rest="${4:-}"
  printf "drawtext=fontfile='%s':text='%s':fontsize=%s:fontcolor=%s%s" "$FONT" "$text" "$size" "$colour" "${rest:+:$rest}"
}

# Sources. The gradient's seed is pinned (noise's default seed is fixed) so the same ffmpeg renders the same pixels.
BACKGROUND="gradients=s=$SIZE:r=$RATE:d=$DURATION:n=3:c0=0x20303c:c1=0x3c2418:c2=0x182c1c:x0=0:y0=0:x1=640:y1=480:speed=0.004:seed=7"
CLUTTER="testsrc2=s=$SIZE:r=$RATE:d=$DURATION"
# The street sign and the plate are drawn on canvases of their own so they can be rotated / moved as a whole.
STREET_SIGN="color=c=0x1e6b34:s=240x60:r=$RATE:d=$DURATION"
PLATE="color=c=0xf2d21b:s=280x56:r=$RATE:d=$DURATION"

GRAPH="
[0:v]format=yuv420p[gradient];
[1:v]format=yuv420p,eq=brightness=-0.12:saturation=0.4,boxblur=1[pattern];
[gradient][pattern]blend=all_expr='A*0.55+B*0.45',noise=alls=16:allf=u,eq=brightness=-0.08:contrast=0.85,format=yuv420p,

drawbox=x=20:y=20:w=320:h=96:color=0xb3202a:t=fill,
$(text 'CAFE ROMA' 44 white 'x=20+(320-tw)/2:y=32'),
$(text 'Espresso - Pastries - Wifi' 18 0xfff2cc 'x=20+(320-tw)/2:y=88'),

drawbox=x=470:y=24:w=76:h=76:color=0x1f4fb0:t=fill,
drawbox=x=470:y=24:w=76:h=76:color=white:t=3,
$(text 'P' 60 white 'x=470+(76-tw)/2:y=32'),
$(text 'max 2h' 20 white 'x=470+(76-tw)/2:y=106:box=1:boxcolor=0x1f4fb0:boxborderw=4'),

drawbox=x=360:y=150:w=250:h=120:color=0x111111:t=fill,
drawbox=x=360:y=150:w=250:h=120:color=0x888888:t=2,
$(text 'BUS 42  Central' 24 0xffb000 'x=374:y=164'),
$(text 'arrives in 3 min' 22 0xffb000 "x=374:y=200:enable='between(t,0,8)'"),
$(text 'arrives in 2 min' 22 0xffb000 "x=374:y=200:enable='between(t,8,16)'"),
$(text 'NOW BOARDING' 22 0x00ff66 "x=374:y=200:enable='between(t,16,24)'"),
$(text 'Platform 4' 20 0xdddddd 'x=374:y=236'),

$(text 'OPEN' 44 0x20ff40 "x=40:y=150:box=1:boxcolor=black@0.8:boxborderw=10:enable='lt(mod(t,6),4)'"),
$(text 'CLOSED' 44 0xff3030 "x=40:y=150:box=1:boxcolor=black@0.8:boxborderw=10:enable='gte(mod(t,6),4)'"),
$(text 'FUEL 1.89' 36 white "x=40:y=240:box=1:boxcolor=0x0b5394:boxborderw=8:enable='lt(t,12)'"),
$(text 'FUEL 1.94' 36 white "x=40:y=240:box=1:boxcolor=0x0b5394:boxborderw=8:enable='gte(t,12)'"),

drawbox=x=30:y=366:w=210:h=62:color=0x0a7a3e:t=fill,
$(text '+ PHARMACY' 30 white 'x=40:y=372'),
$(text 'open 24h - ring bell' 18 0xd0ffd0 'x=40:y=406'),

drawbox=x=0:y=444:w=640:h=36:color=black@0.85:t=fill,
$(text 'BREAKING  Road works on Elm Street until Friday  +++  Weather 18C cloudy  +++  Next train 08.42 to Harbour' 24 white 'x=w-mod(t*110\,w+tw):y=450')
[scene];

[2:v]format=rgba,
$(text 'MAIN ST' 38 white 'x=(w-tw)/2:y=(h-th)/2'),
rotate=a='-0.10+0.04*sin(t*0.9)':ow='hypot(iw,ih)':oh=ow:c=none
[street_sign];

[3:v]format=rgba,
drawbox=x=0:y=0:w=iw:h=ih:color=black:t=4,
$(text 'KA 05 MX 2931' 32 black 'x=(w-tw)/2:y=(h-th)/2')
[plate];

[scene][street_sign]overlay=x=480-w/2:y=395-h/2[with_sign];
[with_sign][plate]overlay=x='mod(t*70\,W+w)-w':y=290:format=yuv420,format=yuv420p[out]
"

mkdir -p "$(dirname "$OUTPUT")"
# One encoder thread and bitexact flags keep the output byte-identical across machines with the same ffmpeg.
ffmpeg -hide_banner -loglevel error -y \
  -f lavfi -i "$BACKGROUND" \
  -f lavfi -i "$CLUTTER" \
  -f lavfi -i "$STREET_SIGN" \
  -f lavfi -i "$PLATE" \
  -filter_complex "$GRAPH" -map '[out]' \
  -t "$DURATION" -r "$RATE" \
  -c:v libx264 -preset medium -crf 28 -pix_fmt yuv420p -threads 1 \
  -fflags +bitexact -flags:v +bitexact -map_metadata -1 \
  -movflags +faststart \
  "$OUTPUT"

echo "wrote $OUTPUT ($(du -h "$OUTPUT" | cut -f1))"
