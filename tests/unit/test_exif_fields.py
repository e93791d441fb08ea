from __future__ import annotations

from datetime import datetime

from shutterbox.adapters.exif_fields import gps_position, photo_metadata

FIELDS = {
    "exif-ifd0-Make": "Canon (Canon, ASCII, 6 components, 6 bytes)",
    "exif-ifd0-Model": "Canon EOS R5 (Canon EOS R5, ASCII, 13 components, 13 bytes)",
    "exif-ifd2-LensModel": "RF24-70mm F2.8 L IS USM (RF24-70mm F2.8 L IS USM, ASCII, 24 ...)",
    "exif-ifd2-DateTimeOriginal": "2024:01:15 10:30:00 (2024:01:15 10:30:00, ASCII, 20 ...)",
    "exif-ifd2-ExposureTime": "1/125 (1/125 sec., Rational, 1 components, 8 bytes)",
    "exif-ifd2-FNumber": "28/10 (f/2.8, Rational, 1 components, 8 bytes)",
    "exif-ifd2-ISOSpeedRatings": "200 (200, Short, 1 components, 2 bytes)",
    "exif-ifd2-FocalLength": "35/1 (35.0 mm, Rational, 1 components, 8 bytes)",
    "exif-ifd3-GPSLatitudeRef": "S (S, ASCII, 2 components, 2 bytes)",
    "exif-ifd3-GPSLatitude": "33/1 51/1 54/1 (33, 51, 54, Rational, 3 components, 24 bytes)",
    "exif-ifd3-GPSLongitudeRef": "E (E, ASCII, 2 components, 2 bytes)",
    "exif-ifd3-GPSLongitude": "151/1 12/1 36/1 (151, 12, 36, Rational, 3 components, 24 bytes)",
}


def test_photo_details():
    details = photo_metadata(FIELDS.get)
    assert details.camera_make == "Canon"
    assert details.camera_model == "Canon EOS R5"
    assert details.lens == "RF24-70mm F2.8 L IS USM"
    assert details.taken_at == datetime(2024, 1, 15, 10, 30)
    assert details.exposure_time == "1/125"
    assert details.f_number == 2.8
    assert details.iso == 200
    assert details.focal_length_mm == 35.0


def test_long_exposures_and_missing_fields():
    details = photo_metadata({"exif-ifd2-ExposureTime": "5/2 (2.5 sec., Rational)"}.get)
    assert details.exposure_time == "2.5"
    assert details.camera_make is None and details.taken_at is None


def test_nonsense_values_are_dropped():
    junk = {
        "exif-ifd2-FNumber": "1/0 (?, Rational)",
        "exif-ifd2-DateTimeOriginal": "0000:00:00 00:00:00 (...)",
        "exif-ifd0-Make": "\x00\x00 (, ASCII)",
        "exif-ifd2-ISOSpeedRatings": "-5 (-5, SShort)",
    }
    details = photo_metadata(junk.get)
    assert details.f_number is None
    assert details.taken_at is None
    assert details.camera_make is None
    assert details.iso is None


def test_gps_position_in_decimal_degrees_with_hemispheres():
    assert gps_position(FIELDS.get) == (-33.865, 151.21)
    assert gps_position({}.get) is None
    out_of_range = {**FIELDS, "exif-ifd3-GPSLatitude": "95/1 0/1 0/1 (95, 0, 0, Rational)"}
    assert gps_position(out_of_range.get) is None
