//! Great-circle distances, precise enough for "within 10 km" in a département.

const EARTH_RADIUS_KM: f64 = 6_371.008_8;

/// Haversine distance in kilometres between two (latitude, longitude) points in degrees.
pub fn distance_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lat1, lon1) = (a.0.to_radians(), a.1.to_radians());
    let (lat2, lon2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

/// Distances from one point by the equirectangular projection: within a few dozen kilometres
/// it differs from the great-circle distance by well under 0.1 %, for a fraction of the cost
/// (one square root, no trigonometry per offer).
#[derive(Debug, Clone, Copy)]
pub struct LocalDistance {
    center: (f64, f64),
    cos_lat: f64,
}

impl LocalDistance {
    pub fn around(center: (f64, f64)) -> Self {
        Self {
            center,
            cos_lat: center.0.to_radians().cos(),
        }
    }

    pub fn distance_km(&self, p: (f64, f64)) -> f64 {
        let dlat = (p.0 - self.center.0).to_radians();
        let dlon = (p.1 - self.center.1).to_radians() * self.cos_lat;
        EARTH_RADIUS_KM * (dlat * dlat + dlon * dlon).sqrt()
    }
}

/// A latitude/longitude box that contains every point within `radius_km` of `center`, to skip
/// the trigonometry for points obviously too far.
#[derive(Debug, Clone, Copy)]
pub struct BoundingBox {
    min_lat: f64,
    max_lat: f64,
    min_lon: f64,
    max_lon: f64,
}

impl BoundingBox {
    pub fn around(center: (f64, f64), radius_km: f64) -> Self {
        let dlat = radius_km / 111.0;
        let cos = center.0.to_radians().cos().abs().max(0.01);
        let dlon = (radius_km / (111.0 * cos)).min(180.0);
        // 1 % margin: the box must never cut off a point the exact distance would keep.
        let (dlat, dlon) = (dlat * 1.01, dlon * 1.01);
        Self {
            min_lat: center.0 - dlat,
            max_lat: center.0 + dlat,
            min_lon: center.1 - dlon,
            max_lon: center.1 + dlon,
        }
    }

    /// Does this box meet `[min lat, max lat, min lon, max lon]`?
    pub fn overlaps(&self, other: [f32; 4]) -> bool {
        f64::from(other[0]) <= self.max_lat
            && f64::from(other[1]) >= self.min_lat
            && f64::from(other[2]) <= self.max_lon
            && f64::from(other[3]) >= self.min_lon
    }

    pub fn contains(&self, p: (f64, f64)) -> bool {
        p.0 >= self.min_lat && p.0 <= self.max_lat && p.1 >= self.min_lon && p.1 <= self.max_lon
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn auxerre_to_sens_is_about_55_km() {
        let auxerre = (47.7982, 3.5673);
        let sens = (48.1975, 3.2833);
        let d = distance_km(auxerre, sens);
        assert!((48.0..52.0).contains(&d), "{d}");
        assert_eq!(distance_km(auxerre, auxerre), 0.0);
    }

    proptest! {
        /// Within 100 km in metropolitan France the fast distance stays within 0.5 % (and
        /// 50 m) of the great-circle one.
        #[test]
        fn local_distance_matches_haversine(
            lat in 41.0f64..51.5, lon in -5.0f64..9.5,
            dlat in -0.6f64..0.6, dlon in -0.6f64..0.6,
        ) {
            let p = (lat + dlat, lon + dlon);
            let exact = distance_km((lat, lon), p);
            prop_assume!(exact <= 100.0);
            let fast = LocalDistance::around((lat, lon)).distance_km(p);
            prop_assert!((fast - exact).abs() <= (exact * 0.005).max(0.05), "{fast} vs {exact}");
        }

        #[test]
        fn the_box_never_cuts_off_a_point_in_range(
            lat in 41.0f64..51.5, lon in -5.0f64..9.5,
            dlat in -0.5f64..0.5, dlon in -0.5f64..0.5, radius in 0.1f64..60.0,
        ) {
            let p = (lat + dlat, lon + dlon);
            if distance_km((lat, lon), p) <= radius {
                prop_assert!(BoundingBox::around((lat, lon), radius).contains(p));
            }
        }
    }
}
