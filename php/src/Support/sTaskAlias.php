<?php

declare(strict_types=1);

namespace Seiger\sTask\Support;

/**
 * What the global alias `sTask` points at. The facade is a native class and
 * class_alias() (used by Laravel's and Evolution's AliasLoader) refuses
 * internal classes, so the alias targets this empty user-defined subclass;
 * every static method and constant is the facade's.
 */
class sTaskAlias extends \Seiger\sTask\Facades\sTask
{
}
