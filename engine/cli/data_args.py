"""The labelled-data options `r2cnn evaluate` and `r2cnn train` share (--data RASTER=VECTOR, --coco JSON,
class filter), turned into the reader interface's request (engine.datasets.labelled.LabelSource)."""

from __future__ import annotations

from engine.errors import CliError


def add_data_arguments(parser, title: str):
    """The options, in their own help group; returns the group so a command can add its own."""
    group = parser.add_argument_group(title)
    group.add_argument("--data", nargs="+", metavar="RASTER=VECTOR",
                       help="rasters with their reference polygons (GeoPackage, Shapefile, GeoJSON, ...; "
                       "'refs.gpkg|layername=NAME' picks a layer); reprojected to each raster's CRS")
    group.add_argument("--coco", metavar="JSON", help="a COCO JSON; images relative to --images")
    group.add_argument("--images", metavar="DIR", help="folder of the COCO images (default: the JSON's folder)")
    group.add_argument("--class-field", metavar="FIELD", help="reference attribute holding the class")
    group.add_argument("--class-value", action="append", default=[], metavar="VALUE",
                       help="keep references of this class only (repeatable; COCO: a category name)")
    group.add_argument("--image-gsd", type=float, metavar="M",
                       help="ground resolution in metres of images without georeference (COCO PNG / JPEG), as "
                       "r2cnn detect --gsd")
    return group


def has_data(args) -> bool:
    """Were --data or --coco given?"""
    return bool(args.data or args.coco)


def label_source(args, airbus_root: str | None = None, airbus_split: str = "all"):
    """The reader interface's request: the pairs, the COCO file, or (neither) the Airbus folder."""
    from engine.datasets.labelled import LabelSource, parse_pair

    if args.data and args.coco:
        raise CliError("give --data or --coco, not both")
    if args.class_value and args.data and not args.class_field:
        raise CliError("--class-value needs --class-field (the reference attribute holding the class)")
    if args.image_gsd is not None and not args.image_gsd > 0:
        raise CliError("--image-gsd must be a positive number of metres")
    try:
        pairs = tuple(parse_pair(text) for text in args.data or ())
    except ValueError as exc:
        raise CliError(f"--data: {exc}") from exc
    if not pairs and args.coco is None:
        from engine.datasets.airbus import DEFAULT_AIRBUS_ROOT

        return LabelSource(airbus=airbus_root or str(DEFAULT_AIRBUS_ROOT), airbus_split=airbus_split)
    return LabelSource(pairs=pairs, coco=args.coco, coco_images=args.images, class_field=args.class_field,
                       class_values=tuple(args.class_value), gsd_m=args.image_gsd)
