<?php

// What `php artisan package:discover` writes for the package (extra.laravel.providers).
return Seiger\sTask\sTaskServiceProvider::class;
