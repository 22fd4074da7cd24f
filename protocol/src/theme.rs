//! Brand color contrast: whatever color a site owner picks, text drawn on it meets WCAG AA.
//! The server fills [`crate::widget::WidgetConfig::on_color`] with [`text_color`].

/// Parses `#rrggbb` (the only form the server stores).
pub fn parse_hex(color: &str) -> Option<[u8; 3]> {
    let hex = color.strip_prefix('#')?;
    if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
    Some([byte(0)?, byte(2)?, byte(4)?])
}

/// WCAG 2.x relative luminance.
pub fn luminance([r, g, b]: [u8; 3]) -> f64 {
    let channel = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.039_28 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
}

/// WCAG contrast ratio between two luminances (1..21).
pub fn contrast(a: f64, b: f64) -> f64 {
    let (hi, lo) = if a > b { (a, b) } else { (b, a) };
    (hi + 0.05) / (lo + 0.05)
}

/// Black or white, whichever reads better on `bg`. For every sRGB color one of them reaches
/// at least 4.58:1, above the AA threshold of 4.5:1 for normal text.
pub fn text_on(bg: [u8; 3]) -> &'static str {
    let l = luminance(bg);
    if contrast(l, 0.0) >= contrast(l, 1.0) {
        "#000000"
    } else {
        "#ffffff"
    }
}

/// The text color for a `#rrggbb` background (white for anything unparseable).
pub fn text_color(background: &str) -> &'static str {
    parse_hex(background).map_or("#ffffff", text_on)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_brand_color_gets_text_that_meets_aa() {
        // Every 5th value per channel: 52^3 ≈ 140k colors, including the worst mid-greys.
        let mut worst = f64::MAX;
        for r in (0..=255u8).step_by(5) {
            for g in (0..=255u8).step_by(5) {
                for b in (0..=255u8).step_by(5) {
                    let l = luminance([r, g, b]);
                    let text = if text_on([r, g, b]) == "#000000" {
                        0.0
                    } else {
                        1.0
                    };
                    worst = worst.min(contrast(l, text));
                }
            }
        }
        assert!(worst >= 4.5, "worst contrast {worst}");
    }

    #[test]
    fn light_brands_get_black_text_and_dark_brands_white() {
        assert_eq!(text_on(parse_hex("#ffeb3b").unwrap()), "#000000");
        assert_eq!(text_on(parse_hex("#1e3a8a").unwrap()), "#ffffff");
    }

    #[test]
    fn only_six_digit_hex_colors_parse() {
        assert_eq!(parse_hex("#2563eb"), Some([0x25, 0x63, 0xeb]));
        for bad in ["2563eb", "#fff", "#2563eg", "#2563eb00", "red"] {
            assert_eq!(parse_hex(bad), None, "{bad}");
        }
    }
}
