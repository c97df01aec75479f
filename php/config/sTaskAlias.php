<?php

// Published to config/app/aliases/sTask.php: gives the global alias `sTask`.
// It names a user-defined subclass of the native facade Seiger\sTask\Facades\sTask,
// because class_alias() cannot alias an extension's class.
return Seiger\sTask\Support\sTaskAlias::class;
