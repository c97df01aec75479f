<?php

use Illuminate\Database\Migrations\Migration;
use Illuminate\Database\Schema\Blueprint;
use Illuminate\Support\Facades\Schema;

// Evolution CMS 3's permissions_groups, with its columns and types
// (install/stubs/migrations/2018_06_29_182342_create_permissions_groups_table.php):
// a signed auto-increment int id, not Laravel's unsigned increments().
return new class extends Migration
{
    public function up(): void
    {
        Schema::create('permissions_groups', function (Blueprint $table) {
            $table->integer('id', true);
            $table->string('name');
            $table->string('lang_key')->default('');
            $table->timestamps();
        });
    }

    public function down(): void
    {
        Schema::drop('permissions_groups');
    }
};
